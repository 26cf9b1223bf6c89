// Unit testbench (ticl_fpga/rtl/unit.py): one input vector per clock into unit_top.in (hex lines),
// prints unit_top.out (hex) LATENCY clocks later.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "Vunit_top.h"
#include "verilated.h"
#include "unit_config.h"

template <std::size_t N>
static void set_bit(VlWide<N>& w, int b, int v) { if (v) w[b / 32] |= 1u << (b % 32); else w[b / 32] &= ~(1u << (b % 32)); }
template <class T>
static void set_bit(T& w, int b, int v) { if (v) w |= (T)((T)1 << b); else w &= (T)~((T)1 << b); }
template <std::size_t N>
static int get_bit(const VlWide<N>& w, int b) { return (w[b / 32] >> (b % 32)) & 1; }
template <class T>
static int get_bit(const T& w, int b) { return (int)((w >> b) & 1); }

int main(int argc, char** argv) {
    FILE* fi = std::fopen(argv[1], "r");
    FILE* fo = std::fopen(argv[2], "w");
    std::vector<std::string> ins;
    char buf[65536];
    while (std::fscanf(fi, "%65535s", buf) == 1) ins.push_back(buf);
    auto ctx = std::make_unique<VerilatedContext>();
    auto top = std::make_unique<Vunit_top>(ctx.get());
    size_t n = ins.size();
    for (size_t c = 0; c < n + LATENCY; c++) {
        if (c < n) {
            const std::string& h = ins[c];  // hex, most significant digit first
            for (int b = 0; b < IN_BITS; b++) {
                int digit = (int)h.size() - 1 - b / 4;
                int v = 0;
                if (digit >= 0) { char ch = h[digit]; v = (ch <= '9') ? ch - '0' : (ch | 32) - 'a' + 10; }
                set_bit(top->in, b, (v >> (b % 4)) & 1);
            }
        }
        top->clk = 0; top->eval();
        if (c >= (size_t)LATENCY) {
            std::string s;
            for (int d = (OUT_BITS + 3) / 4 - 1; d >= 0; d--) {
                int v = 0;
                for (int k = 0; k < 4; k++) if (d * 4 + k < OUT_BITS) v |= get_bit(top->out, d * 4 + k) << k;
                s += "0123456789abcdef"[v];
            }
            std::fprintf(fo, "%s\n", s.c_str());
        }
        top->clk = 1; top->eval();
    }
    std::fclose(fo);
    return 0;
}
