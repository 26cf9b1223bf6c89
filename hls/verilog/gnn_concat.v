`timescale 1 ns / 1 ps
// gnn_concat: concatenate up to three row tensors along features, L rows (lanes) at a time.
// Input k has FK features of WK bits (FRK fractional, signed SK); every feature is widened
// exactly to the output type (WO bits, FO fractional).  Feature 0 of input 1 is the LSB field.
// Combinational.
module gnn_concat #(
    parameter L = 1,
    parameter F1 = 1, parameter W1 = 8, parameter FR1 = 0, parameter S1 = 0,
    parameter F2 = 1, parameter W2 = 8, parameter FR2 = 0, parameter S2 = 0,
    parameter F3 = 0, parameter W3 = 8, parameter FR3 = 0, parameter S3 = 0,
    parameter WO = 8, parameter FO = 0
) (
    input  [L*F1*W1-1:0] in1,
    input  [L*F2*W2-1:0] in2,
    input  [(F3 > 0 ? L*F3*W3 : 1)-1:0] in3,
    output [L*(F1+F2+F3)*WO-1:0] out
);
  localparam FT = F1 + F2 + F3;
  genvar l;
  generate
    for (l = 0; l < L; l = l + 1) begin : g_lane
      gnn_cast #(.N(F1), .WI(W1), .FI(FR1), .SI(S1), .WO(WO), .FO(FO)) c1 (
          .in (in1[l*F1*W1+:F1*W1]),
          .out(out[l*FT*WO+:F1*WO])
      );
      gnn_cast #(.N(F2), .WI(W2), .FI(FR2), .SI(S2), .WO(WO), .FO(FO)) c2 (
          .in (in2[l*F2*W2+:F2*W2]),
          .out(out[l*FT*WO+F1*WO+:F2*WO])
      );
      if (F3 > 0) begin : g_third
        gnn_cast #(.N(F3), .WI(W3), .FI(FR3), .SI(S3), .WO(WO), .FO(FO)) c3 (
            .in (in3[l*F3*W3+:F3*W3]),
            .out(out[l*FT*WO+(F1+F2)*WO+:F3*WO])
        );
      end
    end
  endgenerate
endmodule
