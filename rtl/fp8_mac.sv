// FP8 multiply-accumulate: the exact FP8 product (fp_mul, E4M3 or E5M2) widened without
// rounding to FP32 (both in fp_mul_fp32) and accumulated by an FP32 fp_acc (round to
// nearest even per add).
module fp8_mac #(
  parameter int unsigned ExpBits    = 4,
  parameter int unsigned ManBits    = 3,
  parameter int unsigned Bias       = 7,
  parameter int unsigned FnSpecials = 1
) (
  input  logic                     clk_i,    // clock
  input  logic                     rst_ni,   // asynchronous reset, active low
  input  logic                     clear_i,  // synchronous clear to +0
  input  logic                     en_i,     // accumulate a_i * b_i this cycle
  input  logic [ExpBits+ManBits:0] a_i,      // FP8 activation
  input  logic [ExpBits+ManBits:0] b_i,      // FP8 weight
  output logic [31:0]              acc_o     // FP32 running sum
);
  logic [31:0] p32;
  fp_mul_fp32 #(.ExpBits(ExpBits), .ManBits(ManBits), .Bias(Bias), .FnSpecials(FnSpecials)) u_mul (
    .a_i(a_i), .b_i(b_i), .p_o(p32));
  fp_acc #(.ExpBits(8), .ManBits(23)) u_acc (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .en_i(en_i), .in_i(p32), .acc_o(acc_o));
endmodule
