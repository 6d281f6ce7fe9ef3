#!/usr/bin/env python3
"""Tests the tests: single-point mutations of the RTL must all be caught.

Each mutant replaces one literal piece of one rtl/*.sv file (a swapped operator, a
flipped constant, a dropped carry, a wrong sign extension, ...), is Verilated with the
very harness the ctest suite uses (rtl/harness.h through tests/rtl/mutant_driver.cpp)
and must produce a mismatch against the golden model. Prints each verdict and the kill
rate; exits 1 if a mutant survives, a replacement no longer applies, or the unmutated
baseline fails. Usage: rtl_mutations.py [--jobs N] [--unit MODULE ...]; --unit keeps
the mutants of MODULE.sv or checked on a MODULE instance, and the baseline is then every
instance those mutants are checked on, unmutated.
"""
import argparse
import concurrent.futures as cf
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MUL_S8 = ("mul_array", "-GWidthA=8 -GWidthB=8 -GSigned=1", "check_mul<Vdut>(8, 8, 1, o)")
BOOTH_S8 = ("mul_booth", "-GWidthA=8 -GWidthB=8 -GSigned=1", "check_mul<Vdut>(8, 8, 1, o)")
ACC_S12 = ("accumulator", "-GWidth=12 -GInWidth=8 -GSigned=1", "check_accumulate<Vdut, 0>(8, 1, 12, 1, 0, o)")
ACC_S12_SAT = ("accumulator", "-GWidth=12 -GInWidth=8 -GSigned=1 -GSaturate=1",
               "check_accumulate<Vdut, 0>(8, 1, 12, 1, 1, o)")
KS13 = ("add_kogge_stone", "-GWidth=13", "check_add<Vdut>(13, o)")
RIPPLE8 = ("add_ripple", "-GWidth=8", "check_add<Vdut>(8, o)")
PANN = ("pann_add", "-GWidthX=8 -GRWidth=4", "check_pann<Vdut>(8, 4, o)")
LUQ = ("luq_mul", "", "check_luq_mul<Vdut>(4, o)")
LUQ_A5 = ("luq_mul", "-GWidthA=5", "check_luq_mul<Vdut>(5, o)")
PANN_MAC = ("pann_mac", "-GWidthX=4 -GRWidth=3 -GAccWidth=12", "check_pann_mac<Vdut>(4, 3, 12, 0, o)")
PANN_MAC_SAT = ("pann_mac", "-GWidthX=8 -GRWidth=4 -GAccWidth=16 -GSaturate=1", "check_pann_mac<Vdut>(8, 4, 16, 1, o)")

FPMUL_E4M3 = ("fp_mul", "-GExpBits=4 -GManBits=3 -GBias=7 -GFnSpecials=1", "check_fp_mul<Vdut>(lpsim::arith::fp8_e4m3(), o)")
FPMUL_E5M2 = ("fp_mul", "-GExpBits=5 -GManBits=2 -GBias=15 -GFnSpecials=0", "check_fp_mul<Vdut>(lpsim::arith::fp8_e5m2(), o)")

FPADD_E5M2 = ("fp_add", "-GExpBits=5 -GManBits=2", "check_fp_add<Vdut>(lpsim::arith::fp8_e5m2(), o)")
FPADD_FP16 = ("fp_add", "-GExpBits=5 -GManBits=10", "check_fp_add<Vdut>(lpsim::arith::fp16(), o)")
FPMULRNE_E5M2 = ("fp_mul_rne", "-GExpBits=5 -GManBits=2", "check_fp_mul_rne<Vdut>(lpsim::arith::fp8_e5m2(), o)")
FPMULRNE_FP16 = ("fp_mul_rne", "-GExpBits=5 -GManBits=10", "check_fp_mul_rne<Vdut>(lpsim::arith::fp16(), o)")
FPACC_FP16 = ("fp_acc", "-GExpBits=5 -GManBits=10", "check_fp_acc<Vdut>(lpsim::arith::fp16(), o)")
FPMAC_FP16 = ("fp_mac", "-GExpBits=5 -GManBits=10", "check_fp_mac<Vdut>(lpsim::arith::fp16(), o)")
MACWS_S8 = ("mac_ws", "-GWidthA=8 -GWidthB=8 -GAccWidth=32 -GSigned=1", "check_mac_ws<Vdut>(8, 8, 32, 1, 0, o)")
MACWS_S4X5_SAT = ("mac_ws", "-GWidthA=4 -GWidthB=5 -GAccWidth=12 -GSigned=1 -GSaturate=1 -GBooth=1",
                  "check_mac_ws<Vdut>(4, 5, 12, 1, 1, o)")
MACWS_U4_SAT = ("mac_ws", "-GWidthA=4 -GWidthB=4 -GAccWidth=10 -GSigned=0 -GSaturate=1",
                "check_mac_ws<Vdut>(4, 4, 10, 0, 1, o)")
FP8WS_E4M3 = ("fp8_mac_ws", "-GExpBits=4 -GManBits=3 -GBias=7 -GFnSpecials=1",
              "check_fp8_mac_ws<Vdut>(lpsim::arith::fp8_e4m3(), o)")
FPWS_FP16 = ("fp_mac_ws", "-GExpBits=5 -GManBits=10", "check_fp_mac_ws<Vdut>(lpsim::arith::fp16(), o)")
FP8MAC_FP16 = ("fp8_mac", "-GExpBits=5 -GManBits=10 -GBias=15 -GFnSpecials=0", "check_fp8_mac<Vdut>(lpsim::arith::fp16(), o)")

L8 = "lpsim::arith::LnsFormat{7, 3}"
LNS_MAC = ("lns_mac", "-GExpBits=7 -GFracBits=3 -GAlpha=5 -GAccWidth=24", f"check_lns_mac<Vdut>({L8}, 5, 24, 1, o)")
LNS_MAC_R2 = ("lns_mac", "-GExpBits=4 -GFracBits=0 -GAlpha=1 -GAccWidth=20",
              "check_lns_mac<Vdut>(lpsim::arith::LnsFormat{4, 0}, 1, 20, 1, o)")
LNS_BINS = ("lns_mac_bins", "-GExpBits=7 -GFracBits=3 -GAlpha=5 -GAccWidth=24 -GBinWidth=40",
            f"check_lns_mac_bins<Vdut>({L8}, 5, 24, 40, 1, o)")
LNS_LOG = ("lns_log_acc", "-GExpBits=7 -GFracBits=3 -GAccFrac=3 -GAccExpBits=8 -GMitchell=0",
           f"check_lns_log<Vdut>({L8}, 3, 8, 0, 1, o)")
LNS_LOG5 = ("lns_log_acc", "-GExpBits=7 -GFracBits=3 -GAccFrac=5 -GAccExpBits=10 -GMitchell=0",
            f"check_lns_log<Vdut>({L8}, 5, 10, 0, 1, o)")
LNS_MIT = ("lns_log_acc", "-GExpBits=7 -GFracBits=3 -GAccFrac=3 -GAccExpBits=8 -GMitchell=1",
           f"check_lns_log<Vdut>({L8}, 3, 8, 1, 1, o)")
LNS_MIT5 = ("lns_log_acc", "-GExpBits=7 -GFracBits=3 -GAccFrac=5 -GAccExpBits=10 -GMitchell=1",
            f"check_lns_log<Vdut>({L8}, 5, 10, 1, 1, o)")

# (file, original text, mutated text, unit to check it with)
MUTANTS = [
    ("fp_mul_rne.sv", "assign up    = guard & (rest | kept[0]);", "assign up    = guard;", FPMULRNE_E5M2),
    ("fp_mul_rne.sv", "assign rest  = (|shifted[ProdW-2-SigW:0]) | lost;", "assign rest  = |shifted[ProdW-2-SigW:0];", FPMULRNE_E5M2),
    ("fp_mul_rne.sv", "e_final = rounded[ManBits] ? EW'(1) : '0;", "e_final = '0;", FPMULRNE_E5M2),
    ("fp_mul_rne.sv", "assign overflow = e_final >= EW'((1 << ExpBits) - 1);", "assign overflow = e_final > EW'((1 << ExpBits) - 1);", FPMULRNE_FP16),
    ("fa.sv", "a_i ^ b_i ^ c_i", "a_i ^ b_i | c_i", MUL_S8),
    ("fa.sv", " | (b_i & c_i)", "", RIPPLE8),
    ("add_ripple.sv", "assign carry[0] = cin_i;", "assign carry[0] = 1'b0;", RIPPLE8),
    ("add_ripple.sv", "assign cout_o = carry[Width];", "assign cout_o = carry[Width-1];", RIPPLE8),
    ("add_kogge_stone.sv", "(p[l][i] & g[l][i-Dist])", "(p[l][i] | g[l][i-Dist])", KS13),
    ("add_kogge_stone.sv", "assign p[l+1][i] = p[l][i] & p[l][i-Dist];", "assign p[l+1][i] = p[l][i] | p[l][i-Dist];", KS13),
    ("add_kogge_stone.sv", "assign g[0] = {a_i & b_i, cin_i};", "assign g[0] = {a_i & b_i, 1'b0};", KS13),
    ("add_kogge_stone.sv", "Dist = 1 << l;", "Dist = 1 << (l + 1);", KS13),
    ("mul_array.sv", " + (W'(1) << (WidthB - 1))", "",
     ("mul_array", "-GWidthA=3 -GWidthB=7 -GSigned=1", "check_mul<Vdut>(3, 7, 1, o)")),
    ("mul_array.sv", "((i == WidthA - 1) != (j == WidthB - 1))", "((i == WidthA - 1) == (j == WidthB - 1))", MUL_S8),
    ("mul_array.sv", "assign pp[i] = a_i[i] & b_i[j];", "assign pp[i] = a_i[i] | b_i[j];",
     ("mul_array", "-GWidthA=8 -GWidthB=8", "check_mul<Vdut>(8, 8, 0, o)")),
    ("mul_array.sv", "assign carry[r-1] = {c[W-2:0], 1'b0};", "assign carry[r-1] = c;", MUL_S8),
    ("mul_booth.sv", "(~trip[2] & trip[1] & trip[0])", "(~trip[2] & trip[1] & ~trip[0])", BOOTH_S8),
    # (neg = trip[2] alone would be an equivalent mutant: digit 0 with neg gives ~0 + 1 = 0.)
    ("mul_booth.sv", "assign neg  = trip[2] & ~(trip[1] & trip[0]);", "assign neg  = trip[2] & ~trip[1];",
     ("mul_booth", "-GWidthA=8 -GWidthB=8", "check_mul<Vdut>(8, 8, 0, o)")),
    ("mul_booth.sv", "assign a_ext = W'($signed(a_i));", "assign a_ext = W'(a_i);", BOOTH_S8),
    ("mul_booth.sv", "{{(BE - WidthB - 1){b_i[WidthB-1]}}, b_i, 1'b0}", "{{(BE - WidthB - 1){1'b0}}, b_i, 1'b0}",
     ("mul_booth", "-GWidthA=3 -GWidthB=7 -GSigned=1", "check_mul<Vdut>(3, 7, 1, o)")),
    ("mul_booth.sv", "assign neg_row[2*k +: 2] = {1'b0, neg};", "assign neg_row[2*k +: 2] = {neg, 1'b0};", BOOTH_S8),
    ("mul_booth.sv", "(two & a_ext[i-1])", "(two & a_ext[i])",
     ("mul_booth", "-GWidthA=16 -GWidthB=16 -GSigned=1", "check_mul<Vdut>(16, 16, 1, o)")),
    ("csa_tree.sv", "assign row[Out + 2*gi + 1] = {c[Width-2:0], 1'b0};", "assign row[Out + 2*gi + 1] = c;", BOOTH_S8),
    ("acc_add.sv", "assign in_ext = Width'($signed(in_i));", "assign in_ext = Width'(in_i);", ACC_S12),
    ("acc_add.sv", "(sum[Width-1] != acc_i[Width-1])", "(sum[Width-1] == acc_i[Width-1])", ACC_S12_SAT),
    ("acc_add.sv", "in_ext[Width-1] ? {1'b1, {(Width-1){1'b0}}} : {1'b0, {(Width-1){1'b1}}}",
     "in_ext[Width-1] ? {1'b0, {(Width-1){1'b1}}} : {1'b1, {(Width-1){1'b0}}}", ACC_S12_SAT),
    ("accumulator.sv", "end else if (clear_i) begin", "end else if (clear_i && !en_i) begin", ACC_S12),
    ("accumulator.sv", "end else if (en_i) begin", "end else if (1'b1) begin", ACC_S12),
    ("acc_add.sv", "assign overflow_o = cout;", "assign overflow_o = 1'b0;",
     ("accumulator", "-GWidth=10 -GInWidth=8 -GSigned=0 -GSaturate=1", "check_accumulate<Vdut, 0>(8, 1, 10, 0, 1, o)")),
    ("mac.sv", ".InWidth(WidthA + WidthB), .Signed(Signed)", ".InWidth(WidthA + WidthB), .Signed(0)",
     ("mac", "-GWidthA=8 -GWidthB=8 -GAccWidth=32 -GSigned=1", "check_accumulate<Vdut, 1>(8, 8, 32, 1, 0, o)")),
    ("pann_add.sv", "assign done_o = (count_q == '0);", "assign done_o = (count_q <= 1);", PANN),
    ("pann_add.sv", "      count_q  <= r_i;\n      result_o <= '0;", "      count_q  <= r_i;\n      result_o <= result_o;", PANN),
    # The PANN PE: each adder reads its own sum, the stored sign picks the sum written and
    # the overflow, the count, clear over start, the sticky flag (cleared by clear only),
    # the zero-extended, saturating addend taken from the x register; the overlapped
    # start: done at count 1, the last addition at a start made with the old x and sign
    # (not skipped, not the new job's), the count loaded whole, a start while counting
    # adding once, clear over the last addition.
    ("pann_mac.sv", ".acc_i(sum_pos_o), .in_i(x_q)", ".acc_i(sum_neg_o), .in_i(x_q)", PANN_MAC),
    ("pann_mac.sv", "if (neg_q) sum_neg_o <= next_neg;", "if (neg_i) sum_neg_o <= next_neg;", PANN_MAC),
    ("pann_mac.sv", "        else       sum_pos_o <= next_pos;", "        sum_pos_o <= next_pos;", PANN_MAC),
    ("pann_mac.sv", "(neg_q ? ovf_neg : ovf_pos)", "(neg_q ? ovf_pos : ovf_neg)", PANN_MAC),
    ("pann_mac.sv", "assign adding = (count_q != '0);", "assign adding = (count_q > 1);", PANN_MAC),
    ("pann_mac.sv", "end else if (clear_i) begin", "end else if (clear_i && !start_i) begin", PANN_MAC),
    ("pann_mac.sv", "overflow_o <= overflow_o | (neg_q", "overflow_o <= (neg_q", PANN_MAC),
    ("pann_mac.sv", "      overflow_o <= 1'b0;\n    end else begin", "    end else begin", PANN_MAC),
    ("pann_mac.sv", ".Signed(0), .Saturate(Saturate)) u_add_neg", ".Signed(1), .Saturate(Saturate)) u_add_neg", PANN_MAC_SAT),
    ("pann_mac.sv", ".Saturate(Saturate)) u_add_pos", ".Saturate(0)) u_add_pos", PANN_MAC_SAT),
    ("pann_mac.sv", ".in_i(x_q), .sum_o(next_neg)", ".in_i(x_i), .sum_o(next_neg)", PANN_MAC),
    ("pann_mac.sv", "assign done_o = ((count_q >> 1) == '0);", "assign done_o = (count_q == '0);", PANN_MAC),
    ("pann_mac.sv", "      if (adding) begin", "      if (adding && !(start_i && count_q == RWidth'(1))) begin", PANN_MAC),
    ("pann_mac.sv", "      if (adding) begin", "      if (adding && (!start_i || count_q == RWidth'(1))) begin", PANN_MAC),
    ("pann_mac.sv", ".in_i(x_q), .sum_o(next_pos)", ".in_i(start_i ? x_i : x_q), .sum_o(next_pos)", PANN_MAC),
    ("pann_mac.sv", "if (neg_q) sum_neg_o <= next_neg;", "if (start_i ? neg_i : neg_q) sum_neg_o <= next_neg;", PANN_MAC),
    ("pann_mac.sv", "count_q  <= r_i;", "count_q  <= r_i - RWidth'(adding);", PANN_MAC),
    ("pann_mac.sv", "      end else if (adding) begin\n        count_q  <= count_q - 1'b1;",
     "      end else begin\n        count_q  <= count_q - 1'b1;", PANN_MAC),
    ("pann_mac.sv", "      count_q    <= '0;\n      sum_pos_o  <= '0;\n      sum_neg_o  <= '0;\n      overflow_o <= 1'b0;\n    end else begin",
     "      sum_pos_o  <= '0;\n      sum_neg_o  <= '0;\n      overflow_o <= 1'b0;\n    end else begin", PANN_MAC),
    ("luq_mul.sv", "assign s1 = e[1] ? {s0[WidthP-3:0], 2'b0} : s0;", "assign s1 = e[1] ? {s0[WidthP-2:0], 1'b0} : s0;", LUQ),
    ("luq_mul.sv", ".cin_i(w_i[3])", ".cin_i(1'b0)", LUQ),
    ("luq_mul.sv", "assign a_ext = WidthP'($signed(a_i));", "assign a_ext = WidthP'(a_i);", LUQ_A5),
    ("fp_mul.sv", "assign xa = (|ea) ? EW'(ea) - EW'(Bias) : EW'(1) - EW'(Bias);",
     "assign xa = (|ea) ? EW'(ea) - EW'(Bias) : EW'(0) - EW'(Bias);", FPMUL_E4M3),
    ("fp_mul.sv", "assign siga = {|ea, ma};", "assign siga = {1'b1, ma};", FPMUL_E4M3),
    ("fp_mul.sv", "assign a_inf = a_max_exp & ~(|ma);", "assign a_inf = 1'b0;", FPMUL_E5M2),
    ("fp_mul.sv", "| (a_inf & b_zero) | (b_inf & a_zero)", "", FPMUL_E5M2),
    ("fp_mul.sv", "assign a_nan = a_max_exp & (&ma);", "assign a_nan = a_max_exp & (|ma);", FPMUL_E4M3),
    ("fp_add.sv", "assign up    = guard & (rest | kept[0]);", "assign up    = guard;", FPADD_FP16),
    ("fp_add.sv", "assign fy_jam = fy_shift | SW'(lost);", "assign fy_jam = fy_shift;", FPADD_FP16),
    ("fp_add.sv", "assign limit = bx - EW'(1);", "assign limit = bx;", FPADD_E5M2),
    ("fp_add.sv", "e_final = rounded[ManBits] ? en : '0;", "e_final = en;", FPADD_E5M2),
    ("fp_add.sv", "s_o = {sx & sy, {(ExpBits + ManBits){1'b0}}};", "s_o = {sx, {(ExpBits + ManBits){1'b0}}};", FPADD_E5M2),
    ("fp_add.sv", "norm = {1'b0, sum[SW-1:1]} | SW'(sum[0]);", "norm = {1'b0, sum[SW-1:1]};", FPADD_FP16),
    ("luq_mac.sv", ".InWidth(WidthA + 7), .Signed(1)", ".InWidth(WidthA + 7), .Signed(0)",
     ("luq_mac", "-GAccWidth=16", "check_accumulate<Vdut, 2>(4, 4, 16, 1, 0, o)")),
    ("fp_mul_fp32.sv", "8'(pe) - 8'(PBias) + 8'd127", "8'(pe) - 8'(PBias) + 8'd126",
     ("fp8_mac", "-GExpBits=4 -GManBits=3 -GBias=7 -GFnSpecials=1", "check_fp8_mac<Vdut>(lpsim::arith::fp8_e4m3(), o)")),
    ("fp_acc.sv", "else if (clear_i) acc_o <= '0;", "else if (clear_i && !en_i) acc_o <= '0;", FPACC_FP16),
    ("fp_mul_fp32.sv", "else if (&pe) p_o = {ps, 8'hFF, pm, {(23 - PM){1'b0}}};", "else if (&pe) p_o = {ps, 8'hFF, 23'b0};",
     FP8MAC_FP16),
    ("fp8_mac.sv", ".en_i(en_i), .in_i(p32)", ".en_i(1'b1), .in_i(p32)", FP8MAC_FP16),
    ("fp_mac.sv", ".en_i(en_i), .in_i(p)", ".en_i(1'b1), .in_i(p)", FPMAC_FP16),
    # The weight-stationary PEs: the product must use the weight register, not b_i.
    ("mac_ws.sv", "u_mul (.a_i(a_i), .b_i(w_q), .p_o(product));\n  end\n",
     "u_mul (.a_i(a_i), .b_i(b_i), .p_o(product));\n  end\n", MACWS_S8),
    ("mac_ws.sv", ".InWidth(WidthA + WidthB), .Signed(Signed)", ".InWidth(WidthA + WidthB), .Signed(0)", MACWS_S8),
    ("mac_ws.sv", ".acc_i(psum_i)", ".acc_i(psum_o)", MACWS_S8),
    ("acc_add.sv", "assign overflow_o = (acc_i[Width-1] == in_ext[Width-1]) && ", "assign overflow_o = ", MACWS_S4X5_SAT),
    ("acc_add.sv", "assign sum_o = overflow_o ? {Width{1'b1}} : sum;", "assign sum_o = sum;", MACWS_U4_SAT),
    ("mac_ws.sv", "      a_o        <= a_i;", "      a_o        <= a_o;", MACWS_S8),
    ("mac_ws.sv", "    end else begin\n      overflow_o <= 1'b0;", "    end else begin\n      overflow_o <= overflow_o;",
     MACWS_S8),
    ("fp8_mac_ws.sv", "else if (w_load_i) w_q <= b_i;", "else w_q <= b_i;", FP8WS_E4M3),
    ("fp8_mac_ws.sv", ".a_i(a_i), .b_i(w_q), .p_o(p32)", ".a_i(a_i), .b_i(b_i), .p_o(p32)", FP8WS_E4M3),
    ("fp_mul_fp32.sv", "if (pe == '0) p_o = {ps, 31'b0};", "if (pe == '0) p_o = 32'b0;", FP8WS_E4M3),
    ("fp_mac_ws.sv", ".a_i(psum_i), .b_i(p)", ".a_i(psum_o), .b_i(p)", FPWS_FP16),
    ("fp_mac_ws.sv", "    end else if (en_i) begin", "    end else if (en_i | w_load_i) begin", FPWS_FP16),
    # Reset values (issue 14): every register of every sequential unit, right after reset
    # and after resets in the middle of a run (rtl/harness.h Clocked::reset).
    ("accumulator.sv", "if (!rst_ni) begin\n      acc_o      <= '0;\n      overflow_o <= 1'b0;",
     "if (!rst_ni) begin\n      acc_o      <= '0;\n      overflow_o <= 1'b1;", ACC_S12),
    ("accumulator.sv", "if (!rst_ni) begin\n      acc_o      <= '0;", "if (!rst_ni) begin\n      acc_o      <= Width'(1);",
     ACC_S12_SAT),
    ("mac_ws.sv", "if (!rst_ni) w_q <= '0;", "if (!rst_ni) w_q <= WidthB'(1);", MACWS_S8),
    ("mac_ws.sv", "      psum_o     <= '0;\n      overflow_o <= 1'b0;\n    end else if (en_i)",
     "      psum_o     <= '0;\n      overflow_o <= 1'b1;\n    end else if (en_i)", MACWS_U4_SAT),
    ("mac_ws.sv", "      a_o        <= '0;\n      psum_o     <= '0;", "      a_o        <= '1;\n      psum_o     <= '0;",
     MACWS_S8),
    ("fp_acc.sv", "if (!rst_ni) acc_o <= '0;", "if (!rst_ni) acc_o <= (ExpBits + ManBits + 1)'(1);", FPACC_FP16),
    ("fp_mac_ws.sv", "if (!rst_ni) w_q <= '0;", "if (!rst_ni) w_q <= (ExpBits + ManBits + 1)'(1 << ManBits);", FPWS_FP16),
    ("fp8_mac_ws.sv", "if (!rst_ni) w_q <= '0;", "if (!rst_ni) w_q <= '1;", FP8WS_E4M3),
    ("pann_add.sv", "      count_q  <= '0;\n      result_o <= '0;\n    end else if (start_i)",
     "      count_q  <= RWidth'(1);\n      result_o <= '0;\n    end else if (start_i)", PANN),
    ("pann_mac.sv", "      sum_neg_o  <= '0;\n      overflow_o <= 1'b0;\n    end else if (clear_i)",
     "      sum_neg_o  <= '0;\n      overflow_o <= 1'b1;\n    end else if (clear_i)", PANN_MAC),
    ("pann_mac.sv", "      count_q    <= '0;\n      neg_q      <= 1'b0;", "      count_q    <= RWidth'(2);\n      neg_q      <= 1'b0;",
     PANN_MAC_SAT),
    # The LNS units (issue 17). A: zero detection, the product's log (sign extension, floor
    # split, q - q_min), the table index, the sign through the adder's carry, the sign
    # extension of the sum, the sticky flag and its two-sided range test, clear over enable.
    ("lns_mac.sv", " | (b_i[ExpBits-1:0] == {1'b1, {(ExpBits-1){1'b0}}});", ";", LNS_MAC),
    ("lns_mac.sv", "assign p    = {a_i[ExpBits-1], a_i[ExpBits-1:0]}", "assign p    = {1'b0, a_i[ExpBits-1:0]}", LNS_MAC),
    # (p >> b logical instead of arithmetic would be an equivalent mutant: only the low
    # $clog2(Span + 1) bits of q - q_min are used, and those do not see the fill bits.)
    ("lns_mac.sv", "PW'($signed(p) >>> FracBits)", "PW'($signed(p) >>> (FracBits - 1))", LNS_MAC),
    ("lns_mac.sv", "SW'(q - PW'(QMin))", "SW'(q - PW'(QMin) - 1'b1)", LNS_MAC),
    ("lns_mac.sv", ".r_i(p[FracBits-1:0])", ".r_i(p[FracBits:1])", LNS_MAC),
    ("lns_mac.sv", ".cin_i(neg)", ".cin_i(1'b0)", LNS_MAC),
    ("lns_mac.sv", "assign mag      = zero ? '0 : ", "assign mag      = ", LNS_MAC),
    ("lns_mac.sv", "assign acc_ext  = SumW'($signed(acc_o));", "assign acc_ext  = SumW'(acc_o);", LNS_MAC),
    ("lns_mac.sv", "overflow_o <= overflow_o | ovf;", "overflow_o <= ovf;", LNS_MAC),
    ("lns_mac.sv", " && (sum[SumW-1:AccWidth-1] != '1)", "", LNS_MAC),
    ("lns_mac.sv", "end else if (clear_i) begin", "end else if (clear_i && !en_i) begin", LNS_MAC),
    ("lns_mac.sv", "if (!rst_ni) begin\n      acc_o      <= '0;\n      overflow_o <= 1'b0;",
     "if (!rst_ni) begin\n      acc_o      <= '0;\n      overflow_o <= 1'b1;", LNS_MAC),
    ("lns_mac.sv", "if (!rst_ni) begin\n      acc_o      <= '0;", "if (!rst_ni) begin\n      acc_o      <= AccWidth'(1);", LNS_MAC),
    ("lns_mac.sv", ".FracBits(0), .Alpha(Alpha)) u_lut (.r_i(1'b0)", ".FracBits(0), .Alpha(Alpha)) u_lut (.r_i(1'b1)", LNS_MAC_R2),
    # A': the enable of the addressed bin only, zero products skipped, the one-hot's sign,
    # the read-out's operand isolation, sign extension and range test, clear, reset.
    ("lns_mac_bins.sv", "en_i && !zero && r == RW'(g)", "en_i && r == RW'(g)", LNS_BINS),
    ("lns_mac_bins.sv", "en_i && !zero && r == RW'(g)", "en_i && !zero", LNS_BINS),
    ("lns_mac_bins.sv", ".cin_i(neg)", ".cin_i(1'b0)", LNS_BINS),
    ("lns_mac_bins.sv", "assign bin_iso = bin_q & {(Gamma*BinWidth){read_i}};", "assign bin_iso = bin_q;", LNS_BINS),
    ("lns_mac_bins.sv", "OutW'($signed(bin_iso[g*BinWidth +: BinWidth]))", "OutW'(bin_iso[g*BinWidth +: BinWidth])", LNS_BINS),
    ("lns_mac_bins.sv", " && (total[OutW-1:AccWidth-1] != '1)", "", LNS_BINS),
    ("lns_mac_bins.sv", "assign shift = SW'(q - PW'(QMin));", "assign shift = SW'(q - PW'(QMin) + 1'b1);", LNS_BINS),
    ("lns_mac_bins.sv", "end else if (clear_i) begin", "end else if (clear_i && !en_i) begin", LNS_BINS),
    ("lns_mac_bins.sv", "if (!rst_ni) begin\n        bin_q[g*BinWidth +: BinWidth] <= '0;",
     "if (!rst_ni) begin\n        bin_q[g*BinWidth +: BinWidth] <= BinWidth'(1);", LNS_BINS),
    # B and C: the comparison of the logs, the sign rule, exact cancellation, the first term,
    # the scaling of the product's log, saturation (value, sign, flag) and flush, the table
    # and Mitchell's approximations, clear, reset values.
    ("lns_log_acc.sv", "assign ge       = ~diff[EW];", "assign ge       = diff[EW];", LNS_LOG),
    ("lns_log_acc.sv", "assign same     = neg_q == s;", "assign same     = 1'b1;", LNS_LOG),
    ("lns_log_acc.sv", "assign cancel = !same && d == '0;", "assign cancel = 1'b0;", LNS_LOG),
    ("lns_log_acc.sv", "assign below  = $signed(res) < $signed(EMinSum);", "assign below  = 1'b0;", LNS_LOG),
    ("lns_log_acc.sv", "assign above  = $signed(res) > $signed(EMaxSum);", "assign above  = 1'b0;", LNS_MIT),
    ("lns_log_acc.sv", "        neg_q       <= top_neg;\n        saturated_o <= 1'b1;",
     "        neg_q       <= 1'b0;\n        saturated_o <= 1'b1;", LNS_LOG),
    ("lns_log_acc.sv", "        saturated_o <= 1'b1;", "        saturated_o <= saturated_o;", LNS_MIT),
    ("lns_log_acc.sv", "      if (acc_zero) begin", "      if (1'b0) begin", LNS_LOG),
    ("lns_log_acc.sv", "<< (AccFrac - FracBits);", "<< (AccFrac - FracBits + 1);", LNS_LOG5),
    ("lns_log_acc.sv", "assign delta = same ? RW'(sb) : -(RW'(db));", "assign delta = same ? RW'(sb) : RW'(db);", LNS_LOG5),
    ("lns_log_acc.sv", "assign d        = ge ? diff : -diff;", "assign d        = diff;", LNS_LOG5),
    ("lns_log_acc.sv", "assign k = (d + (EW + 1)'((1 << AccFrac) - 1)) >> AccFrac;", "assign k = d >> AccFrac;", LNS_MIT5),
    ("lns_log_acc.sv", "assign f    = AccFrac'(-d);", "assign f    = AccFrac'(d);", LNS_MIT5),
    ("lns_log_acc.sv", "for (int i = 0; i <= AccFrac; i++)", "for (int i = 0; i < AccFrac; i++)", LNS_MIT5),
    ("lns_log_acc.sv", "((RW'(lead) - RW'(AccFrac)) << AccFrac)", "((RW'(AccFrac) - RW'(lead)) << AccFrac)", LNS_MIT5),
    ("lns_log_acc.sv", "assign delta = same ? RW'(pow2) : log_w;", "assign delta = same ? RW'(pow2) : RW'(0);", LNS_MIT),
    ("lns_log_acc.sv", "end else if (clear_i) begin", "end else if (clear_i && !en_i) begin", LNS_MIT),
    ("lns_log_acc.sv", "if (!rst_ni) begin\n      e_q         <= ZeroCode;", "if (!rst_ni) begin\n      e_q         <= '0;", LNS_LOG),
    ("lns_log_acc.sv", "      saturated_o <= 1'b0;\n    end else if (clear_i)", "      saturated_o <= 1'b1;\n    end else if (clear_i)",
     LNS_MIT),
    ("lns_log_acc.sv", "      neg_q       <= 1'b0;\n      saturated_o <= 1'b0;\n    end else if (en_i",
     "      neg_q       <= 1'b0;\n      saturated_o <= saturated_o;\n    end else if (en_i", LNS_LOG),
    # The generated ROMs: one entry each, as a stale or hand-edited table would differ.
    ("lns_pow2_rom.sv", "3'd5: lut_o = 6'd49;", "3'd5: lut_o = 6'd48;", LNS_MAC),
    ("lns_gauss_rom.sv", "32'd10: begin sb_o = 4'd4; db_o = 8'd6; end", "32'd10: begin sb_o = 4'd4; db_o = 8'd7; end", LNS_LOG),
    ("lns_gauss_rom.sv", "32'd35: begin sb_o = 4'd1; db_o = 8'd1; end", "32'd35: begin sb_o = 4'd0; db_o = 8'd1; end", LNS_LOG),

]


def build_and_run(src, unit, workdir):
    """0: no mismatch, 1: mismatch (killed), 2: does not build (an error: every mutant
    here is meant to be valid Verilog, so a build failure proves nothing)."""
    top, gparams, call = unit
    cmd = (["verilator", "--cc", "--exe", "--build", "-j", "1", "--trace", "-Wno-fatal", "-Wno-lint", "-Wno-style",
            "-O1", "--Mdir", workdir, "--prefix", "Vdut", "-y", src] + gparams.split() +
           ["--top-module", top, os.path.join(src, top + ".sv"), os.path.join(ROOT, "tests/rtl/mutant_driver.cpp"),
            os.path.join(ROOT, "arith/float_format.cpp")] +
           ([os.path.join(ROOT, "arith/lns.cpp")] if "lns" in call else []) + [
            "-CFLAGS", f"-std=c++20 -O1 -I{ROOT}", "-CFLAGS", f"-DCHECK_CALL='{call}'", "-o", "dut"])
    b = subprocess.run(cmd, capture_output=True, text=True)
    if b.returncode != 0:
        return 2, b.stderr[-300:]
    r = subprocess.run([os.path.join(workdir, "dut")], capture_output=True, text=True, timeout=300)
    return (1 if r.returncode else 0), r.stdout.strip()


def run_mutant(index, mutant, tmp):
    file, old, new, unit = mutant
    src = os.path.join(tmp, f"m{index}", "rtl")
    shutil.copytree(os.path.join(ROOT, "rtl"), src, ignore=shutil.ignore_patterns("*.h", "*.cpp", "*.txt"))
    path = os.path.join(src, file)
    text = open(path).read()
    if text.count(old) != 1:
        return index, "NOT-APPLIED", f"{file}: '{old}' occurs {text.count(old)} times"
    open(path, "w").write(text.replace(old, new))
    rc, out = build_and_run(src, unit, os.path.join(tmp, f"m{index}", "obj"))
    verdict = {0: "SURVIVED", 1: "KILLED", 2: "BUILD-FAILED"}[rc]
    return index, verdict, f"{file}: '{old}' -> '{new}' [{unit[0]} {unit[1]}] {out if rc != 1 else ''}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--unit", action="append", default=[],
                    help="only the mutants of this module's file or checked on this module (repeatable)")
    args = ap.parse_args()
    chosen = [(i, m) for i, m in enumerate(MUTANTS, 1)
              if not args.unit or m[0][:-3] in args.unit or m[3][0] in args.unit]
    if not chosen:
        print(f"rtl mutations: no mutant for --unit {' '.join(args.unit)}")
        sys.exit(1)
    baselines = [BOOTH_S8] if not args.unit else list(dict.fromkeys(m[3] for _, m in chosen))
    with tempfile.TemporaryDirectory() as tmp:
        rc = 0
        for b, unit in enumerate(baselines):
            brc, out = build_and_run(os.path.join(ROOT, "rtl"), unit, os.path.join(tmp, f"baseline{b}"))
            print(f"baseline (unmutated {unit[0]} {unit[1]}): {'pass' if brc == 0 else 'FAIL'} {out}")
            rc = rc or brc
        with cf.ThreadPoolExecutor(args.jobs) as pool:
            results = sorted(pool.map(lambda im: run_mutant(im[0], im[1], tmp), chosen))
    for i, verdict, text in results:
        print(f"mutant {i:2d} {verdict:13s} {text}")
    killed = sum(v == "KILLED" for _, v, _ in results)
    bad = [r for r in results if r[1] != "KILLED"]
    print(f"rtl mutations: {killed} of {len(results)} killed ({100.0 * killed / len(results):.0f}%)")
    print(f"mutation: {killed} passed, {len(bad) + (rc != 0)} failed")
    sys.exit(0 if not bad and rc == 0 and (args.unit or len(results) >= 20) else 1)


if __name__ == "__main__":
    main()
