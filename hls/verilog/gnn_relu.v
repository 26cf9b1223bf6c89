`timescale 1 ns / 1 ps
// gnn_relu: N codes of W bits; negative (signed) codes become 0.  Combinational, same type.
module gnn_relu #(
    parameter N = 1,
    parameter W = 8,
    parameter S = 1
) (
    input  [N*W-1:0] in,
    output [N*W-1:0] out
);
  genvar i;
  generate
    for (i = 0; i < N; i = i + 1) begin : g_elem
      assign out[i*W+:W] = (S != 0 && in[i*W+W-1]) ? {W{1'b0}} : in[i*W+:W];
    end
  endgenerate
endmodule
