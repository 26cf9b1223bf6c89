`timescale 1 ns / 1 ps
// gnn_controller: the streaming schedule.
//   Load (independent of the stages): node rows arrive one per clock (in_node_valid, NODE_BEATS
//     of them) and edge beats of P edges (in_edge_valid, EDGE_BEATS), written into input bank
//     lbank; a loaded bank is marked full and the next graph loads into the other bank, so a
//     graph loads while the previous one is processed (in_ready is low while both are full).
//   Stages: idle (stage 0; scatter banks are cleared) until the bank cbank is full, then
//     stage k = 1..NS issues ISSUE[k] rows/beats, one per clock (cnt = row or beat), and drains
//     its pipeline for LENGTH[k] - ISSUE[k] clocks; after stage NS the bank is freed, done pulses.
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
    output reg lbank,
    output reg cbank,
    output reg [SW-1:0] stage,
    output reg [CW-1:0] cnt,
    output issue,
    output clear,
    output reg done
);
  reg [1:0] full;
  wire loading = !full[lbank];
  assign in_ready = loading;
  assign clear = (stage == 0);
  assign node_we = loading && in_node_valid && (node_waddr < NODE_BEATS);
  assign edge_we = loading && in_edge_valid && (edge_waddr < EDGE_BEATS);
  wire [CW-1:0] n_issue = (stage == 0) ? {CW{1'b0}} : ISSUE[(stage-1)*CW+:CW];
  wire [CW-1:0] n_len = (stage == 0) ? {CW{1'b0}} : LENGTH[(stage-1)*CW+:CW];
  assign issue = (stage != 0) && (cnt < n_issue);
  wire node_full = (node_waddr + (node_we ? 1 : 0)) >= NODE_BEATS;
  wire edge_full = (edge_waddr + (edge_we ? 1 : 0)) >= EDGE_BEATS;
  wire loaded = loading && node_full && edge_full;
  wire finished = (stage == NS) && (cnt == n_len - 1);
  always @(posedge clk) begin
    done <= 1'b0;
    if (rst) begin
      stage <= 0;
      cnt <= 0;
      node_waddr <= 0;
      edge_waddr <= 0;
      lbank <= 1'b0;
      cbank <= 1'b0;
      full <= 2'b00;
    end else begin
      // load side
      if (node_we) node_waddr <= node_waddr + 1;
      if (edge_we) edge_waddr <= edge_waddr + 1;
      if (loaded) begin
        node_waddr <= 0;
        edge_waddr <= 0;
        lbank <= !lbank;
      end
      // full flags: set by the load side, cleared by the stage side (never the same bank at once)
      if (loaded) full[lbank] <= 1'b1;
      if (finished) full[cbank] <= 1'b0;
      // stage side
      if (stage == 0) begin
        cnt <= 0;
        if (full[cbank]) stage <= 1;
      end else if (cnt == n_len - 1) begin
        cnt <= 0;
        if (stage == NS) begin
          stage <= 0;
          cbank <= !cbank;
          done <= 1'b1;
        end else begin
          stage <= stage + 1;
        end
      end else begin
        cnt <= cnt + 1;
      end
    end
  end
endmodule
