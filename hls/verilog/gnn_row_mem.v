`timescale 1 ns / 1 ps
// gnn_row_mem: DEPTH words of W bits, one write and one read per clock (registered read).
// A word is one node row (node stages) or one beat of P edge rows (edge stages): tensors that
// live across stages are stored here, partitioned by row, all features of a row in one word.
module gnn_row_mem #(
    parameter DEPTH = 1,
    parameter W = 8,
    parameter AW = 8
) (
    input clk,
    input we,
    input [AW-1:0] waddr,
    input [W-1:0] wdata,
    input [AW-1:0] raddr,
    output reg [W-1:0] rdata
);
  reg [W-1:0] mem[0:DEPTH-1];
  always @(posedge clk) begin
    if (we) mem[waddr] <= wdata;
    rdata <= (raddr < DEPTH) ? mem[raddr] : {W{1'b0}};
  end
endmodule
