`timescale 1 ns / 1 ps
// gnn_edge_index: the edge_index input (src and dst node of every edge), BEATS beats of P
// edges; written while the graph is loaded, read one beat per clock in every edge stage
// (registered).  Lane p of a beat is edge beat*P + p.  Two banks: the next graph's edges load
// (wbank) while the current graph is processed (rbank).
module gnn_edge_index #(
    parameter BEATS = 1,
    parameter P = 1,
    parameter IW = 8,
    parameter AW = 8
) (
    input clk,
    input we,
    input wbank,
    input [AW-1:0] waddr,
    input [P*IW-1:0] src_in,
    input [P*IW-1:0] dst_in,
    input rbank,
    input [AW-1:0] raddr,
    output [P*IW-1:0] src,
    output [P*IW-1:0] dst
);
  gnn_row_mem #(.DEPTH(BEATS), .W(2 * P * IW), .AW(AW), .BANKS(2)) mem (
      .clk(clk),
      .we(we),
      .wbank(wbank),
      .waddr(waddr),
      .wdata({dst_in, src_in}),
      .rbank(rbank),
      .raddr(raddr),
      .rdata({dst, src})
  );
endmodule
