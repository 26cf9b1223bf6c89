// Verilator testbench of gnn_top, written by ticl-fpga rtl build (ticl_fpga/rtl/tb.cpp).
// Usage: tb INPUT OUTPUT.  INPUT: n_graphs, then per graph the x codes [NODE_ROWS x FX], src [E],
// dst [E], edge_attr codes [E x FE] (whitespace-separated integers).  Graphs are fed back to back
// as fast as in_ready allows.  OUTPUT: per graph one line "start first_out last_out done" (clock
// cycles) followed by one line of E x FO output codes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "Vgnn_top.h"
#include "verilated.h"
#include "tb_config.h"

template <std::size_t N>
static void put(VlWide<N>& w, int bit, int width, uint64_t v) {
    for (int i = 0; i < width; i++) {
        int b = bit + i;
        uint32_t m = 1u << (b % 32);
        if ((v >> i) & 1) w[b / 32] |= m; else w[b / 32] &= ~m;
    }
}
template <class T>
static void put(T& w, int bit, int width, uint64_t v) {
    for (int i = 0; i < width; i++) {
        T m = (T)((T)1 << (bit + i));
        if ((v >> i) & 1) w |= m; else w &= (T)~m;
    }
}
template <std::size_t N>
static uint64_t get(const VlWide<N>& w, int bit, int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; i++) v |= (uint64_t)((w[(bit + i) / 32] >> ((bit + i) % 32)) & 1u) << i;
    return v;
}
template <class T>
static uint64_t get(const T& w, int bit, int width) {
    return ((uint64_t)w >> bit) & ((width >= 64) ? ~0ull : ((1ull << width) - 1));
}
static int64_t sext(uint64_t v, int width, bool is_signed) {
    if (is_signed && width < 64 && ((v >> (width - 1)) & 1)) return (int64_t)(v | (~0ull << width));
    return (int64_t)v;
}
static uint64_t mask(int64_t v, int width) {
    return (uint64_t)v & ((width >= 64) ? ~0ull : ((1ull << width) - 1));
}

int main(int argc, char** argv) {
    if (argc < 3) { std::fprintf(stderr, "usage: tb INPUT OUTPUT\n"); return 2; }
    FILE* fi = std::fopen(argv[1], "r");
    FILE* fo = std::fopen(argv[2], "w");
    if (!fi || !fo) { std::fprintf(stderr, "cannot open files\n"); return 2; }
    const int E = EDGE_BEATS * P;
    long n_graphs = 0;
    if (std::fscanf(fi, "%ld", &n_graphs) != 1) return 2;
    std::vector<std::vector<int64_t>> xs(n_graphs), srcs(n_graphs), dsts(n_graphs), eas(n_graphs);
    for (long g = 0; g < n_graphs; g++) {
        xs[g].resize(NODE_ROWS * FX); srcs[g].resize(E); dsts[g].resize(E); eas[g].resize((size_t)E * FE);
        for (auto& v : xs[g]) if (std::fscanf(fi, "%ld", &v) != 1) return 2;
        for (auto& v : srcs[g]) if (std::fscanf(fi, "%ld", &v) != 1) return 2;
        for (auto& v : dsts[g]) if (std::fscanf(fi, "%ld", &v) != 1) return 2;
        for (auto& v : eas[g]) if (std::fscanf(fi, "%ld", &v) != 1) return 2;
    }
    auto ctx = std::make_unique<VerilatedContext>();
    auto top = std::make_unique<Vgnn_top>(ctx.get());
    uint64_t cycle = 0;
    auto tick = [&]() {
        top->clk = 0; top->eval();
        top->clk = 1; top->eval();
        cycle++;
    };
    top->rst = 1; top->in_node_valid = 0; top->in_edge_valid = 0;
    tick(); tick();
    top->rst = 0;
    std::vector<std::vector<int64_t>> outs(n_graphs, std::vector<int64_t>((size_t)E * FO, 0));
    std::vector<uint64_t> t_start(n_graphs, 0), t_first(n_graphs, 0), t_last(n_graphs, 0), t_done(n_graphs, 0);
    std::vector<long> seen(n_graphs, 0);
    long g_in = 0, g_out = 0, beat = 0;
    const uint64_t limit = (uint64_t)(n_graphs + 2) * 10000000ull;
    while (g_out < n_graphs && cycle < limit) {
        // drive inputs for this cycle (sampled at the next rising edge)
        bool feed = g_in < n_graphs && top->in_ready;
        top->in_node_valid = feed && beat < NODE_ROWS;
        top->in_edge_valid = feed && beat < EDGE_BEATS;
        if (feed) {
            if (beat == 0) t_start[g_in] = cycle;
            if (beat < NODE_ROWS)
                for (int f = 0; f < FX; f++) put(top->in_x, f * WX, WX, mask(xs[g_in][beat * FX + f], WX));
            if (beat < EDGE_BEATS)
                for (int l = 0; l < P; l++) {
                    int e = beat * P + l;
                    put(top->in_src, l * IW, IW, (uint64_t)srcs[g_in][e]);
                    put(top->in_dst, l * IW, IW, (uint64_t)dsts[g_in][e]);
                    for (int f = 0; f < FE; f++)
                        put(top->in_edge_attr, (l * FE + f) * WE, WE, mask(eas[g_in][(size_t)e * FE + f], WE));
                }
            beat++;
            if (beat >= NODE_ROWS && beat >= EDGE_BEATS) { g_in++; beat = 0; }
        }
        top->clk = 0; top->eval();
        // outputs of this cycle (combinational from registers)
        if (top->out_valid && g_out < n_graphs) {
            long b = top->out_beat;
            if (seen[g_out] == 0) t_first[g_out] = cycle;
            t_last[g_out] = cycle;
            for (int l = 0; l < P; l++)
                for (int f = 0; f < FO; f++)
                    outs[g_out][(size_t)(b * P + l) * FO + f] = sext(get(top->out_data, (l * FO + f) * WO, WO), WO, SO);
            seen[g_out]++;
        }
        bool done = top->done;
        if (done && g_out < n_graphs) { t_done[g_out] = cycle; g_out++; }
        top->clk = 1; top->eval();
        cycle++;
    }
    if (g_out < n_graphs) { std::fprintf(stderr, "timeout after %lu cycles\n", (unsigned long)cycle); return 1; }
    for (long g = 0; g < n_graphs; g++) {
        std::fprintf(fo, "%lu %lu %lu %lu %ld\n", (unsigned long)t_start[g], (unsigned long)t_first[g],
                     (unsigned long)t_last[g], (unsigned long)t_done[g], seen[g]);
        for (size_t e = 0; e < (size_t)E * FO; e++)
            std::fprintf(fo, "%ld%c", (long)outs[g][e], e + 1 < (size_t)E * FO ? ' ' : '\n');
    }
    std::fclose(fo);
    top->final();
    return 0;
}
