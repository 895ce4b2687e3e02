#pragma once
// libgpurnn: vanilla RNN, LSTM and GRU forward and backward on CPU (and CUDA, where built).
// Include this one header for the whole public API.

#include "gpurnn/backend.h"
#include "gpurnn/device.h"
#include "gpurnn/dtype.h"
#include "gpurnn/error.h"
#include "gpurnn/rnn.h"
#include "gpurnn/rnn_descriptor.h"
#include "gpurnn/rnn_weights.h"
#include "gpurnn/shape.h"
#include "gpurnn/tensor.h"
#include "gpurnn/version.h"
