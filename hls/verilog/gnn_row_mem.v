`timescale 1 ns / 1 ps
// gnn_row_mem: DEPTH words of W bits, one write and one read per clock (registered read).
// A word is one node row (node stages) or one beat of P edge rows (edge stages): tensors that
// live across stages are stored here, partitioned by row, all features of a row in one word.
// BANKS = 2 double-buffers a graph input: the next graph is written (wbank) while the current
// one is read (rbank).
module gnn_row_mem #(
    parameter DEPTH = 1,
    parameter W = 8,
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
    output reg [W-1:0] rdata
);
  reg [W-1:0] mem[0:BANKS*DEPTH-1];
  wire [AW:0] wa = (BANKS > 1 && wbank) ? waddr + DEPTH : {1'b0, waddr};
  wire [AW:0] ra = (BANKS > 1 && rbank) ? raddr + DEPTH : {1'b0, raddr};
  always @(posedge clk) begin
    if (we) mem[wa] <= wdata;
    rdata <= (raddr < DEPTH) ? mem[ra] : {W{1'b0}};
  end
endmodule
