// nnet_gnn.h: graph layers (row gather, scatter aggregation, per-row dense, concat, requant) for
// fixed-capacity message-passing GNNs, in the style of hls4ml's nnet_utils (io_parallel).
//
// Every tensor is a flat row-major array: [n_rows * n_feat].  All arithmetic is exact: the
// accumulator types are chosen by ticl_fpga.compile so that no sum can overflow or lose bits;
// rounding (AP_RND_CONV = half to even) and saturation (AP_SAT) happen only where the QONNX
// graph has a Quant node, through the result type of nnet::gnn_requant.
#ifndef NNET_GNN_H_
#define NNET_GNN_H_

#include "nnet_common.h"

namespace nnet {

// ---------------------------------------------------------------- requant (QONNX Quant)
struct gnn_requant_config {
    static const unsigned n_elem = 1;
};

template <class data_T, class res_T, typename CONFIG_T>
void gnn_requant(data_T data[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
    #pragma HLS INLINE off
RequantLoop:
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
        #pragma HLS UNROLL
        // res_T carries AP_RND_CONV/AP_SAT(_SYM): the cast is the quantizer.
        res[i] = data[i];
    }
}

// ---------------------------------------------------------------- relu
struct gnn_relu_config {
    static const unsigned n_elem = 1;
};

template <class data_T, class res_T, typename CONFIG_T>
void gnn_relu(data_T data[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
    #pragma HLS INLINE off
ReluLoop:
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++) {
        #pragma HLS UNROLL
        if (data[i] > 0)
            res[i] = data[i];
        else
            res[i] = 0;
    }
}

// ---------------------------------------------------------------- per-row dense: [R, n_in] -> [R, n_out]
struct gnn_dense_config {
    static const unsigned n_rows = 1;
    static const unsigned n_in = 1;
    static const unsigned n_out = 1;
    static const unsigned reuse_factor = 1;
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
    #pragma HLS function_instantiate variable = weights, biases
    #pragma HLS ARRAY_PARTITION variable = weights complete
    #pragma HLS ARRAY_PARTITION variable = biases complete
DenseRows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        #pragma HLS PIPELINE II = CONFIG_T::reuse_factor
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

// ---------------------------------------------------------------- edge_index row (src or dst)
struct gnn_index_row_config {
    static const unsigned n_rows = 2;
    static const unsigned n_cols = 1;
    static const unsigned row = 0;
};

template <class data_T, class res_T, typename CONFIG_T>
void gnn_index_row(data_T data[CONFIG_T::n_rows * CONFIG_T::n_cols], res_T res[CONFIG_T::n_cols]) {
    #pragma HLS INLINE
IndexRowLoop:
    for (unsigned i = 0; i < CONFIG_T::n_cols; i++) {
        #pragma HLS UNROLL
        res[i] = data[CONFIG_T::row * CONFIG_T::n_cols + i];
    }
}

// ---------------------------------------------------------------- gather node rows onto edges
struct gnn_gather_config {
    static const unsigned n_nodes = 1;
    static const unsigned n_edges = 1;
    static const unsigned n_feat = 1;
};

template <class data_T, class index_T, class res_T, typename CONFIG_T>
void gnn_gather(data_T data[CONFIG_T::n_nodes * CONFIG_T::n_feat], index_T index[CONFIG_T::n_edges],
                res_T res[CONFIG_T::n_edges * CONFIG_T::n_feat]) {
    #pragma HLS INLINE off
GatherEdges:
    for (unsigned e = 0; e < CONFIG_T::n_edges; e++) {
        #pragma HLS PIPELINE
        unsigned n = index[e];
    GatherFeat:
        for (unsigned f = 0; f < CONFIG_T::n_feat; f++) {
            res[e * CONFIG_T::n_feat + f] = (n < CONFIG_T::n_nodes) ? data_T(data[n * CONFIG_T::n_feat + f]) : data_T(0);
        }
    }
}

// ---------------------------------------------------------------- scatter edges onto nodes (sum or max)
struct gnn_scatter_config {
    static const unsigned n_nodes = 1;
    static const unsigned n_edges = 1;
    static const unsigned n_feat = 1;
    static const bool is_max = false;
};

template <class data_T, class index_T, class res_T, typename CONFIG_T>
void gnn_scatter(data_T data[CONFIG_T::n_edges * CONFIG_T::n_feat], index_T index[CONFIG_T::n_edges],
                 res_T res[CONFIG_T::n_nodes * CONFIG_T::n_feat]) {
    #pragma HLS INLINE off
ScatterInit:
    for (unsigned i = 0; i < CONFIG_T::n_nodes * CONFIG_T::n_feat; i++) {
        #pragma HLS UNROLL
        res[i] = 0;
    }
ScatterEdges:
    for (unsigned e = 0; e < CONFIG_T::n_edges; e++) {
        unsigned n = index[e];
        if (n >= CONFIG_T::n_nodes)
            continue;
    ScatterFeat:
        for (unsigned f = 0; f < CONFIG_T::n_feat; f++) {
            #pragma HLS UNROLL
            const unsigned k = n * CONFIG_T::n_feat + f;
            if (CONFIG_T::is_max) {
                if (data[e * CONFIG_T::n_feat + f] > res[k])
                    res[k] = data[e * CONFIG_T::n_feat + f];
            } else {
                // res_T has ceil(log2(n_edges)) extra integer bits: the sum cannot overflow.
                res[k] += data[e * CONFIG_T::n_feat + f];
            }
        }
    }
}

// ---------------------------------------------------------------- concatenate along features
struct gnn_concat_config {
    static const unsigned n_rows = 1;
    static const unsigned n_feat1 = 1;
    static const unsigned n_feat2 = 1;
    static const unsigned n_feat3 = 0;
};

template <class in1_T, class in2_T, class res_T, typename CONFIG_T>
void gnn_concat2(in1_T in1[CONFIG_T::n_rows * CONFIG_T::n_feat1], in2_T in2[CONFIG_T::n_rows * CONFIG_T::n_feat2],
                 res_T res[CONFIG_T::n_rows * (CONFIG_T::n_feat1 + CONFIG_T::n_feat2)]) {
    #pragma HLS INLINE
    const unsigned n_out = CONFIG_T::n_feat1 + CONFIG_T::n_feat2;
ConcatRows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        #pragma HLS UNROLL
        for (unsigned f = 0; f < CONFIG_T::n_feat1; f++)
            res[r * n_out + f] = in1[r * CONFIG_T::n_feat1 + f];
        for (unsigned f = 0; f < CONFIG_T::n_feat2; f++)
            res[r * n_out + CONFIG_T::n_feat1 + f] = in2[r * CONFIG_T::n_feat2 + f];
    }
}

template <class in1_T, class in2_T, class in3_T, class res_T, typename CONFIG_T>
void gnn_concat3(in1_T in1[CONFIG_T::n_rows * CONFIG_T::n_feat1], in2_T in2[CONFIG_T::n_rows * CONFIG_T::n_feat2],
                 in3_T in3[CONFIG_T::n_rows * CONFIG_T::n_feat3],
                 res_T res[CONFIG_T::n_rows * (CONFIG_T::n_feat1 + CONFIG_T::n_feat2 + CONFIG_T::n_feat3)]) {
    #pragma HLS INLINE
    const unsigned n_out = CONFIG_T::n_feat1 + CONFIG_T::n_feat2 + CONFIG_T::n_feat3;
ConcatRows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        #pragma HLS UNROLL
        for (unsigned f = 0; f < CONFIG_T::n_feat1; f++)
            res[r * n_out + f] = in1[r * CONFIG_T::n_feat1 + f];
        for (unsigned f = 0; f < CONFIG_T::n_feat2; f++)
            res[r * n_out + CONFIG_T::n_feat1 + f] = in2[r * CONFIG_T::n_feat2 + f];
        for (unsigned f = 0; f < CONFIG_T::n_feat3; f++)
            res[r * n_out + CONFIG_T::n_feat1 + CONFIG_T::n_feat2 + f] = in3[r * CONFIG_T::n_feat3 + f];
    }
}

} // namespace nnet

#endif
