`timescale 1 ns / 1 ps
// gnn_requant: QONNX Quant on activations (power-of-two scale, zero point 0): N codes
// (WI bits, FI fractional, signed SI) -> (WO bits, FO fractional, signed SO), rounding half to
// even (truncation plus a data-dependent LSB add) and saturating to [MIN, MAX]
// (SYM: narrow signed range).  One register stage.
module gnn_requant #(
    parameter N   = 1,
    parameter WI  = 16,
    parameter FI  = 8,
    parameter SI  = 1,
    parameter WO  = 8,
    parameter FO  = 4,
    parameter SO  = 1,
    parameter SYM = 0
) (
    input clk,
    input [N*WI-1:0] in,
    output reg [N*WO-1:0] out
);
  localparam SH = FI - FO;  // > 0: drop SH fractional bits with rounding; <= 0: exact shift left
  localparam LW = (SH < 0) ? -SH : 0;
  localparam RW0 = WI + 2 + LW;
  localparam CW = (RW0 > WO + 2) ? RW0 : WO + 2;  // comparison width
  localparam signed [CW-1:0] MAXV = (SO != 0) ? ((64'sd1 <<< (WO - 1)) - 1) : ((64'sd1 <<< WO) - 1);
  localparam signed [CW-1:0] MINV = (SO != 0) ? ((SYM != 0) ? (1 - (64'sd1 <<< (WO - 1))) : (0 - (64'sd1 <<< (WO - 1)))) : 0;
  wire [N*WO-1:0] res;
  genvar i;
  generate
    for (i = 0; i < N; i = i + 1) begin : g_elem
      wire [WI-1:0] x = in[i*WI+:WI];
      wire signed [CW-1:0] xs = (SI != 0) ? $signed({x[WI-1], x}) : $signed({1'b0, x});
      wire signed [CW-1:0] r;
      if (SH > 0) begin : g_round
        wire signed [CW-1:0] q = xs >>> SH;  // floor
        wire half = xs[SH-1];
        wire rest;
        if (SH > 1) begin : g_rest
          assign rest = |xs[SH-2:0];
        end else begin : g_norest
          assign rest = 1'b0;
        end
        // round half to even: add one LSB above half, and at exactly half when q is odd
        wire up = half & (rest | q[0]);
        assign r = q + {{(CW - 1) {1'b0}}, up};
      end else begin : g_shift
        assign r = xs <<< LW;
      end
      wire signed [CW-1:0] sat = (r > MAXV) ? MAXV : ((r < MINV) ? MINV : r);
      assign res[i*WO+:WO] = sat[WO-1:0];
    end
  endgenerate
  always @(posedge clk) out <= res;
endmodule
