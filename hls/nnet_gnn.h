// nnet_gnn.h: graph layers (row gather, scatter aggregation, per-row dense, concat, requant) for
// fixed-capacity message-passing GNNs, in the style of hls4ml's nnet_utils (io_parallel arrays).
//
// Every tensor is a flat row-major array [n_rows * n_feat].  All arithmetic is exact: the
// accumulator types are chosen by ticl_fpga.compile so that no sum can overflow or lose bits;
// rounding (AP_RND_CONV = half to even) and saturation (AP_SAT) happen only where the QONNX
// graph has a Quant node, through the result type of nnet::gnn_requant.
//
// Streaming architecture: every layer walks its rows (nodes or edges) in a loop pipelined at a
// fixed initiation interval, n_lanes (= edge_parallelism, P) rows per iteration; only the feature
// loop and the P lanes are unrolled.  The arrays between layers are partitioned by feature (and
// by row modulo P), never by row: the partition pragmas are written next to their declarations in
// the top function by ticl_fpga/compile/hls4ml_ext/templates.py, and the top function is a
// DATAFLOW region, so these loops keep their own PIPELINE pragmas.  Each layer function is one
// instance, reused for every row.  Expected cycle counts: ticl_fpga/compile/latency.py.
#ifndef NNET_GNN_H_
#define NNET_GNN_H_

#include "nnet_common.h"

namespace nnet {

// Number of pipelined iterations that cover n rows at p rows per iteration.
template <unsigned n, unsigned p> struct gnn_groups {
    static const unsigned value = (n + p - 1) / p;
};

// ---------------------------------------------------------------- requant (QONNX Quant)
struct gnn_requant_config {
    static const unsigned n_elem = 1;
    static const unsigned n_rows = 1;
    static const unsigned n_feat = 1;
    static const unsigned n_lanes = 1;
};

template <class data_T, class res_T, typename CONFIG_T>
void gnn_requant(data_T data[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
    #pragma HLS INLINE off
RequantRows:
    for (unsigned g = 0; g < gnn_groups<CONFIG_T::n_rows, CONFIG_T::n_lanes>::value; g++) {
        #pragma HLS PIPELINE II=1
    RequantLanes:
        for (unsigned p = 0; p < CONFIG_T::n_lanes; p++) {
            const unsigned r = g * CONFIG_T::n_lanes + p;
            if (r < CONFIG_T::n_rows) {
            RequantFeat:
                for (unsigned f = 0; f < CONFIG_T::n_feat; f++) {
                    // res_T carries AP_RND_CONV/AP_SAT(_SYM): the cast is the quantizer.
                    res[r * CONFIG_T::n_feat + f] = data[r * CONFIG_T::n_feat + f];
                }
            }
        }
    }
}

// ---------------------------------------------------------------- relu
struct gnn_relu_config {
    static const unsigned n_elem = 1;
    static const unsigned n_rows = 1;
    static const unsigned n_feat = 1;
    static const unsigned n_lanes = 1;
};

template <class data_T, class res_T, typename CONFIG_T>
void gnn_relu(data_T data[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
    #pragma HLS INLINE off
ReluRows:
    for (unsigned g = 0; g < gnn_groups<CONFIG_T::n_rows, CONFIG_T::n_lanes>::value; g++) {
        #pragma HLS PIPELINE II=1
    ReluLanes:
        for (unsigned p = 0; p < CONFIG_T::n_lanes; p++) {
            const unsigned r = g * CONFIG_T::n_lanes + p;
            if (r < CONFIG_T::n_rows) {
            ReluFeat:
                for (unsigned f = 0; f < CONFIG_T::n_feat; f++) {
                    const unsigned k = r * CONFIG_T::n_feat + f;
                    if (data[k] > 0)
                        res[k] = data[k];
                    else
                        res[k] = 0;
                }
            }
        }
    }
}

// ---------------------------------------------------------------- per-row dense: [R, n_in] -> [R, n_out]
struct gnn_dense_config {
    static const unsigned n_rows = 1;
    static const unsigned n_in = 1;
    static const unsigned n_out = 1;
    static const unsigned reuse_factor = 1;
    static const unsigned n_lanes = 1;
    typedef float accum_t;
    typedef float weight_t;
    typedef float bias_t;
};

template <class data_T, class res_T, typename CONFIG_T>
void gnn_dense(data_T data[CONFIG_T::n_rows * CONFIG_T::n_in], res_T res[CONFIG_T::n_rows * CONFIG_T::n_out],
               const typename CONFIG_T::weight_t weights[CONFIG_T::n_out * CONFIG_T::n_in],
               const typename CONFIG_T::bias_t biases[CONFIG_T::n_out]) {
    #pragma HLS INLINE off
    // One instance per weight array (as hls4ml's dense_latency does), so the weights are constants
    // in each instance and the multiplications by pruned (zero) weights fold away in synthesis.
    #pragma HLS function_instantiate variable=weights,biases
    #pragma HLS ARRAY_PARTITION variable=weights complete
    #pragma HLS ARRAY_PARTITION variable=biases complete
    // The rows stream through ONE copy of the n_out x n_in product array per lane: the row loop is
    // pipelined (not unrolled) at II = reuse_factor, so each multiplier is shared reuse_factor
    // times; only the n_lanes lanes, the outputs and the inner products are unrolled.
DenseRows:
    for (unsigned g = 0; g < gnn_groups<CONFIG_T::n_rows, CONFIG_T::n_lanes>::value; g++) {
        #pragma HLS PIPELINE II=CONFIG_T::reuse_factor
    DenseLanes:
        for (unsigned p = 0; p < CONFIG_T::n_lanes; p++) {
            const unsigned r = g * CONFIG_T::n_lanes + p;
            if (r < CONFIG_T::n_rows) {
            DenseOut:
                for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
                    typename CONFIG_T::accum_t acc = biases[o];
                DenseIn:
                    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
                        // weights are [n_out, n_in] (ONNX Gemm with transB=1); zero weights fold away.
                        acc += data[r * CONFIG_T::n_in + i] * weights[o * CONFIG_T::n_in + i];
                    }
                    res[r * CONFIG_T::n_out + o] = acc;
                }
            }
        }
    }
}

// ---------------------------------------------------------------- edge_index row (src or dst)
struct gnn_index_row_config {
    static const unsigned n_rows = 2;
    static const unsigned n_cols = 1;
    static const unsigned row = 0;
    static const unsigned n_lanes = 1;
};

template <class data_T, class res_T, typename CONFIG_T>
void gnn_index_row(data_T data[CONFIG_T::n_rows * CONFIG_T::n_cols], res_T res[CONFIG_T::n_cols]) {
    #pragma HLS INLINE off
IndexRowEdges:
    for (unsigned g = 0; g < gnn_groups<CONFIG_T::n_cols, CONFIG_T::n_lanes>::value; g++) {
        #pragma HLS PIPELINE II=1
    IndexRowLanes:
        for (unsigned p = 0; p < CONFIG_T::n_lanes; p++) {
            const unsigned e = g * CONFIG_T::n_lanes + p;
            if (e < CONFIG_T::n_cols)
                res[e] = data[CONFIG_T::row * CONFIG_T::n_cols + e];
        }
    }
}

// ---------------------------------------------------------------- gather node rows onto edges
struct gnn_gather_config {
    static const unsigned n_nodes = 1;
    static const unsigned n_edges = 1;
    static const unsigned n_feat = 1;
    static const unsigned n_lanes = 1;
    // P random row reads per iteration from feature banks with two ports each.
    static const unsigned read_ii = 1;
};

template <class data_T, class index_T, class res_T, typename CONFIG_T>
void gnn_gather(data_T data[CONFIG_T::n_nodes * CONFIG_T::n_feat], index_T index[CONFIG_T::n_edges],
                res_T res[CONFIG_T::n_edges * CONFIG_T::n_feat]) {
    #pragma HLS INLINE off
GatherEdges:
    for (unsigned g = 0; g < gnn_groups<CONFIG_T::n_edges, CONFIG_T::n_lanes>::value; g++) {
        #pragma HLS PIPELINE II=CONFIG_T::read_ii
    GatherLanes:
        for (unsigned p = 0; p < CONFIG_T::n_lanes; p++) {
            const unsigned e = g * CONFIG_T::n_lanes + p;
            if (e < CONFIG_T::n_edges) {
                const unsigned n = index[e];
            GatherFeat:
                for (unsigned f = 0; f < CONFIG_T::n_feat; f++) {
                    res[e * CONFIG_T::n_feat + f] =
                        (n < CONFIG_T::n_nodes) ? data_T(data[n * CONFIG_T::n_feat + f]) : data_T(0);
                }
            }
        }
    }
}

// ---------------------------------------------------------------- scatter edges onto nodes (sum or max)
struct gnn_scatter_config {
    static const unsigned n_nodes = 1;
    static const unsigned n_edges = 1;
    static const unsigned n_feat = 1;
    static const unsigned n_lanes = 1;
    static const bool is_max = false;
};

// Lane p accumulates edges p, p + P, p + 2P, ... into its own partial node array (partitioned by
// feature), so the P lanes never write the same memory; a final pass over the nodes merges the P
// partials.  Sums and maxima are associative and every partial fits res_T (res_T holds the sum of
// all n_edges terms, so it holds any subset), so the result is bit-identical to the sequential
// loop.  A node touched by two consecutive edges of a lane reads the forwarded running value
// instead of the memory (distance-1 read-after-write), so the edge loop runs at II=1 and the
// memory dependence that remains has distance >= 2.  touched[] (registers) replaces an init loop.
template <class data_T, class index_T, class res_T, typename CONFIG_T>
void gnn_scatter(data_T data[CONFIG_T::n_edges * CONFIG_T::n_feat], index_T index[CONFIG_T::n_edges],
                 res_T res[CONFIG_T::n_nodes * CONFIG_T::n_feat]) {
    #pragma HLS INLINE off
    res_T partial[CONFIG_T::n_lanes][CONFIG_T::n_nodes * CONFIG_T::n_feat];
    #pragma HLS ARRAY_PARTITION variable=partial complete dim=1
    #pragma HLS ARRAY_PARTITION variable=partial cyclic factor=CONFIG_T::n_feat dim=2
    bool touched[CONFIG_T::n_lanes][CONFIG_T::n_nodes];
    #pragma HLS ARRAY_PARTITION variable=touched complete dim=0
    res_T fwd[CONFIG_T::n_lanes][CONFIG_T::n_feat];
    #pragma HLS ARRAY_PARTITION variable=fwd complete dim=0
    unsigned last[CONFIG_T::n_lanes];
    #pragma HLS ARRAY_PARTITION variable=last complete dim=0

ScatterReset:
    for (unsigned p = 0; p < CONFIG_T::n_lanes; p++) {
        #pragma HLS UNROLL
        last[p] = CONFIG_T::n_nodes;
        for (unsigned n = 0; n < CONFIG_T::n_nodes; n++) {
            #pragma HLS UNROLL
            touched[p][n] = false;
        }
    }
ScatterEdges:
    for (unsigned g = 0; g < gnn_groups<CONFIG_T::n_edges, CONFIG_T::n_lanes>::value; g++) {
        #pragma HLS PIPELINE II=1
        #pragma HLS DEPENDENCE variable=partial inter RAW distance=2 true
    ScatterLanes:
        for (unsigned p = 0; p < CONFIG_T::n_lanes; p++) {
            const unsigned e = g * CONFIG_T::n_lanes + p;
            if (e < CONFIG_T::n_edges) {
                const unsigned n = index[e];
                if (n < CONFIG_T::n_nodes) {
                    const bool same = (n == last[p]);
                    const bool seen = touched[p][n];
                ScatterFeat:
                    for (unsigned f = 0; f < CONFIG_T::n_feat; f++) {
                        const unsigned k = n * CONFIG_T::n_feat + f;
                        const res_T old = same ? fwd[p][f] : (seen ? partial[p][k] : res_T(0));
                        res_T upd;
                        if (CONFIG_T::is_max) {
                            upd = (data[e * CONFIG_T::n_feat + f] > old) ? res_T(data[e * CONFIG_T::n_feat + f]) : old;
                        } else {
                            // res_T has ceil(log2(n_edges)) extra integer bits: no sum can overflow.
                            upd = old + data[e * CONFIG_T::n_feat + f];
                        }
                        partial[p][k] = upd;
                        fwd[p][f] = upd;
                    }
                    touched[p][n] = true;
                    last[p] = n;
                }
            }
        }
    }
ScatterMerge:
    for (unsigned n = 0; n < CONFIG_T::n_nodes; n++) {
        #pragma HLS PIPELINE II=1
    ScatterMergeFeat:
        for (unsigned f = 0; f < CONFIG_T::n_feat; f++) {
            const unsigned k = n * CONFIG_T::n_feat + f;
            res_T acc = touched[0][n] ? partial[0][k] : res_T(0);
        ScatterMergeLanes:
            for (unsigned p = 1; p < CONFIG_T::n_lanes; p++) {
                const res_T v = touched[p][n] ? partial[p][k] : res_T(0);
                if (CONFIG_T::is_max) {
                    if (v > acc)
                        acc = v;
                } else {
                    acc += v;
                }
            }
            res[k] = acc;
        }
    }
}

// ---------------------------------------------------------------- concatenate along features
struct gnn_concat_config {
    static const unsigned n_rows = 1;
    static const unsigned n_feat1 = 1;
    static const unsigned n_feat2 = 1;
    static const unsigned n_feat3 = 0;
    static const unsigned n_lanes = 1;
};

// C++ has no zero-length arrays: the length of an n-element array parameter, at least 1.
template <unsigned n> struct gnn_len {
    static const unsigned value = n > 0 ? n : 1;
};

// Up to three inputs; with n_feat3 = 0 (two inputs) in3 is a placeholder that is never read.
template <class in1_T, class in2_T, class in3_T, class res_T, typename CONFIG_T>
void gnn_concat3(in1_T in1[CONFIG_T::n_rows * CONFIG_T::n_feat1], in2_T in2[CONFIG_T::n_rows * CONFIG_T::n_feat2],
                 in3_T in3[gnn_len<CONFIG_T::n_rows * CONFIG_T::n_feat3>::value],
                 res_T res[CONFIG_T::n_rows * (CONFIG_T::n_feat1 + CONFIG_T::n_feat2 + CONFIG_T::n_feat3)]) {
    #pragma HLS INLINE off
    const unsigned n_out = CONFIG_T::n_feat1 + CONFIG_T::n_feat2 + CONFIG_T::n_feat3;
ConcatRows:
    for (unsigned g = 0; g < gnn_groups<CONFIG_T::n_rows, CONFIG_T::n_lanes>::value; g++) {
        #pragma HLS PIPELINE II=1
    ConcatLanes:
        for (unsigned p = 0; p < CONFIG_T::n_lanes; p++) {
            const unsigned r = g * CONFIG_T::n_lanes + p;
            if (r < CONFIG_T::n_rows) {
                for (unsigned f = 0; f < CONFIG_T::n_feat1; f++)
                    res[r * n_out + f] = in1[r * CONFIG_T::n_feat1 + f];
                for (unsigned f = 0; f < CONFIG_T::n_feat2; f++)
                    res[r * n_out + CONFIG_T::n_feat1 + f] = in2[r * CONFIG_T::n_feat2 + f];
                for (unsigned f = 0; f < CONFIG_T::n_feat3; f++)
                    res[r * n_out + CONFIG_T::n_feat1 + CONFIG_T::n_feat2 + f] = in3[r * CONFIG_T::n_feat3 + f];
            }
        }
    }
}

// Two inputs: the same layer with an empty third input (the config's n_feat3 is 0).
template <class in1_T, class in2_T, class res_T, typename CONFIG_T>
void gnn_concat2(in1_T in1[CONFIG_T::n_rows * CONFIG_T::n_feat1], in2_T in2[CONFIG_T::n_rows * CONFIG_T::n_feat2],
                 res_T res[CONFIG_T::n_rows * (CONFIG_T::n_feat1 + CONFIG_T::n_feat2)]) {
    in2_T none[1];
    gnn_concat3<in1_T, in2_T, in2_T, res_T, CONFIG_T>(in1, in2, none, res);
}

} // namespace nnet

#endif
