`timescale 1 ns / 1 ps
// gnn_cast: exact widening of N fixed-point codes (WI bits, FI fractional, signed SI) to
// (WO bits, FO fractional); requires FO >= FI and enough integer bits (checked by the generator).
module gnn_cast #(
    parameter N  = 1,
    parameter WI = 8,
    parameter FI = 0,
    parameter SI = 0,
    parameter WO = 8,
    parameter FO = 0
) (
    input  [N*WI-1:0] in,
    output [N*WO-1:0] out
);
  genvar i;
  generate
    for (i = 0; i < N; i = i + 1) begin : g_elem
      wire [WI-1:0] x = in[i*WI+:WI];
      wire signed [WI:0] xs = (SI != 0) ? {x[WI-1], x} : {1'b0, x};
      wire signed [WO-1:0] xe = xs;  // sign extension to WO bits
      assign out[i*WO+:WO] = xe <<< (FO - FI);
    end
  endgenerate
endmodule
