`timescale 1 ns / 1 ps
// gnn_gather: a node tensor (N rows of W = features x width bits) with NP random read ports
// (gather: P edge lanes per gather layer read the rows of their src/dst index) and one row read
// port (node stages).  Reads are registered; an index >= N reads zeros (as nnet::gnn_gather).
// BANKS = 2 double-buffers a graph input (x): written in bank wbank, read in bank rbank.
module gnn_gather #(
    parameter N = 1,
    parameter W = 8,
    parameter NP = 1,
    parameter IW = 8,
    parameter AW = 8,
    parameter BANKS = 1
) (
    input clk,
    input we,
    input wbank,
    input [AW-1:0] waddr,
    input [W-1:0] wdata,
    input rbank,
    input [AW-1:0] raddr,
    output reg [W-1:0] rdata,
    input [NP*IW-1:0] idx,
    output reg [NP*W-1:0] gdata
);
  reg [W-1:0] mem[0:BANKS*N-1];
  localparam OW = (AW > IW ? AW : IW) + 1;
  wire [OW-1:0] wo = (BANKS > 1 && wbank) ? N : 0;
  wire [OW-1:0] ro = (BANKS > 1 && rbank) ? N : 0;
  integer p;
  always @(posedge clk) begin
    if (we) mem[wo+waddr] <= wdata;
    rdata <= (raddr < N) ? mem[ro+raddr] : {W{1'b0}};
    for (p = 0; p < NP; p = p + 1)
      gdata[p*W+:W] <= (idx[p*IW+:IW] < N) ? mem[ro+idx[p*IW+:IW]] : {W{1'b0}};
  end
endmodule
