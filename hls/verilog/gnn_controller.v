`timescale 1 ns / 1 ps
// gnn_controller: the streaming schedule of one graph.
//   stage 0 (load): node rows arrive one per clock (in_node_valid, NODE_BEATS of them) and edge
//     beats of P edges (in_edge_valid, EDGE_BEATS), both counted here; scatter banks are cleared.
//   stage k = 1..NS: ISSUE[k] rows/beats are issued, one per clock (cnt = row or beat), then the
//     pipeline of the stage drains for LENGTH[k] - ISSUE[k] clocks; then stage k+1 starts.
//   After stage NS, done pulses and the next graph can load.
// ISSUE and LENGTH are packed CW-bit fields, stage 1 in the least significant field.
module gnn_controller #(
    parameter NS = 1,
    parameter CW = 16,
    parameter SW = 8,
    parameter [NS*CW-1:0] ISSUE = 0,
    parameter [NS*CW-1:0] LENGTH = 0,
    parameter NODE_BEATS = 1,
    parameter EDGE_BEATS = 1
) (
    input clk,
    input rst,
    input in_node_valid,
    input in_edge_valid,
    output in_ready,
    output node_we,
    output edge_we,
    output reg [CW-1:0] node_waddr,
    output reg [CW-1:0] edge_waddr,
    output reg [SW-1:0] stage,
    output reg [CW-1:0] cnt,
    output issue,
    output clear,
    output reg done
);
  wire loading = (stage == 0);
  assign in_ready = loading;
  assign clear = loading;
  assign node_we = loading && in_node_valid && (node_waddr < NODE_BEATS);
  assign edge_we = loading && in_edge_valid && (edge_waddr < EDGE_BEATS);
  wire [CW-1:0] n_issue = (stage == 0) ? {CW{1'b0}} : ISSUE[(stage-1)*CW+:CW];
  wire [CW-1:0] n_len = (stage == 0) ? {CW{1'b0}} : LENGTH[(stage-1)*CW+:CW];
  assign issue = !loading && (cnt < n_issue);
  wire node_full = (node_waddr + (node_we ? 1 : 0)) >= NODE_BEATS;
  wire edge_full = (edge_waddr + (edge_we ? 1 : 0)) >= EDGE_BEATS;
  always @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      stage <= 0;
      cnt <= 0;
      node_waddr <= 0;
      edge_waddr <= 0;
    end else if (loading) begin
      if (node_we) node_waddr <= node_waddr + 1;
      if (edge_we) edge_waddr <= edge_waddr + 1;
      if (node_full && edge_full) begin
        stage <= 1;
        cnt <= 0;
      end
    end else if (cnt == n_len - 1) begin
      cnt <= 0;
      if (stage == NS) begin
        stage <= 0;
        node_waddr <= 0;
        edge_waddr <= 0;
        done <= 1'b1;
      end else begin
        stage <= stage + 1;
      end
    end else begin
      cnt <= cnt + 1;
    end
  end
endmodule
