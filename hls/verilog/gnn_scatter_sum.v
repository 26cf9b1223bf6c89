`timescale 1 ns / 1 ps
// gnn_scatter_sum: aggregate P edge rows per clock onto N node rows by sum.  Each lane owns a
// bank of N x F accumulators (WO bits, same fractional bits as the input), updated by
// read-modify-write in one clock, so edges of one lane to the same node never conflict; the
// row read port adds the P banks (registered).  clear zeroes every bank (while a graph loads).
// WO holds ceil(log2(E)) more integer bits than the input: the sum cannot overflow.
module gnn_scatter_sum #(
    parameter N = 1,
    parameter F = 1,
    parameter WI = 8,
    parameter SI = 0,
    parameter WO = 16,
    parameter P = 1,
    parameter IW = 8,
    parameter AW = 8
) (
    input clk,
    input clear,
    input valid,
    input [P*IW-1:0] idx,
    input [P*F*WI-1:0] data,
    input [AW-1:0] raddr,
    output reg [F*WO-1:0] rdata
);
  reg [WO-1:0] bank[0:P*N*F-1];
  wire [P*F*WO-1:0] ext;
  gnn_cast #(.N(P * F), .WI(WI), .FI(0), .SI(SI), .WO(WO), .FO(0)) widen (
      .in (data),
      .out(ext)
  );
  integer l, f, k;
  reg [WO-1:0] acc;
  always @(posedge clk) begin
    if (clear) begin
      for (k = 0; k < P * N * F; k = k + 1) bank[k] <= {WO{1'b0}};
    end else if (valid) begin
      for (l = 0; l < P; l = l + 1)
        if (idx[l*IW+:IW] < N)
          for (f = 0; f < F; f = f + 1)
            bank[(l*N+idx[l*IW+:IW])*F+f] <= bank[(l*N+idx[l*IW+:IW])*F+f] + ext[(l*F+f)*WO+:WO];
    end
    for (f = 0; f < F; f = f + 1) begin
      acc = {WO{1'b0}};
      if (raddr < N) for (l = 0; l < P; l = l + 1) acc = acc + bank[(l*N+raddr)*F+f];
      rdata[f*WO+:WO] <= acc;
    end
  end
endmodule
