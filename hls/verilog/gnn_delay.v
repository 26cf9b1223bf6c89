`timescale 1 ns / 1 ps
// gnn_delay: a W-bit shift register of D clocks (D = 0: a wire).  Aligns tensors inside a stage.
module gnn_delay #(
    parameter W = 1,
    parameter D = 1
) (
    input clk,
    input [W-1:0] d,
    output [W-1:0] q
);
  generate
    if (D == 0) begin : g_wire
      assign q = d;
    end else begin : g_reg
      reg [W-1:0] r[0:D-1];
      integer i;
      always @(posedge clk) begin
        r[0] <= d;
        for (i = 1; i < D; i = i + 1) r[i] <= r[i-1];
      end
      assign q = r[D-1];
    end
  endgenerate
endmodule
