`timescale 1 ns / 1 ps
// gnn_scatter: aggregate P edge rows per clock onto N node rows, by sum (MAX = 0) or by max from
// 0 (MAX = 1; inputs unsigned, SI = 0, as the converter requires).
//
// Each lane owns a memory of N words (one node row: F accumulators of WO bits), written once per
// clock and read asynchronously twice (at the lane's index for its read-modify-write, at raddr
// for the row read port), so Yosys maps it to distributed RAM; edges of one lane to the same
// node on consecutive clocks need no forwarding (the update reads and writes the word in one
// clock).  A row is live once written: `live` (N flip-flops per lane) is cleared in one clock by
// `clear` (while a graph loads), and a row that is not live reads as 0, the empty sum and the
// empty max (the memory itself is never cleared).  The row read port combines the P lanes (sum
// or max) and is registered: rdata is row raddr one clock later, as it was before the clock's
// writes.  An index >= N is ignored.  For a sum, WO holds ceil(log2(E)) more integer bits than
// the input: it cannot overflow.
module gnn_scatter #(
    parameter MAX = 0,
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
  localparam W = F * WO;
  wire [P*F*WO-1:0] ext;
  gnn_cast #(.N(P * F), .WI(WI), .FI(0), .SI(SI), .WO(WO), .FO(0)) widen (
      .in (data),
      .out(ext)
  );
  wire [P*W-1:0] rows;  // row raddr of every lane (0 where not live)
  wire in_range = raddr < N;
  genvar l, g;
  generate
    for (l = 0; l < P; l = l + 1) begin : lane
      reg [W-1:0] mem[0:N-1];
      reg [N-1:0] live;
      wire [IW-1:0] a = idx[l*IW+:IW];
      wire hit = valid && !clear && (a < N);
      wire [W-1:0] old = (a < N && live[a]) ? mem[a] : {W{1'b0}};
      wire [W-1:0] upd;
      for (g = 0; g < F; g = g + 1) begin : feat
        wire [WO-1:0] o = old[g*WO+:WO];
        wire [WO-1:0] e = ext[(l*F+g)*WO+:WO];
        if (MAX) begin : mx
          assign upd[g*WO+:WO] = (e > o) ? e : o;
        end else begin : sm
          assign upd[g*WO+:WO] = o + e;
        end
      end
      always @(posedge clk) begin
        if (hit) mem[a] <= upd;
        if (clear) live <= {N{1'b0}};
        else if (hit) live[a] <= 1'b1;
      end
      assign rows[l*W+:W] = (in_range && live[raddr]) ? mem[raddr] : {W{1'b0}};
    end
  endgenerate
  integer f, k;
  reg [WO-1:0] acc;
  always @(posedge clk) begin
    for (f = 0; f < F; f = f + 1) begin
      acc = {WO{1'b0}};
      for (k = 0; k < P; k = k + 1)
        if (MAX) begin
          if (rows[(k*F+f)*WO+:WO] > acc) acc = rows[(k*F+f)*WO+:WO];
        end else acc = acc + rows[(k*F+f)*WO+:WO];
      rdata[f*WO+:WO] <= acc;
    end
  end
endmodule
