// Floating-point multiply-accumulate in one IEEE-style format (FP32, FP16, BF16): the
// product rounded to nearest even in the format (fp_mul_rne) feeds an fp_acc in the same
// format, so each step rounds twice (no fused multiply-add), as the FP32 reference MAC
// of the network tables does. Ports as fp8_mac: synchronous clear to +0 wins over
// enable; asynchronous active-low reset.
module fp_mac #(
  parameter int unsigned ExpBits = 8,
  parameter int unsigned ManBits = 23
) (
  input  logic                     clk_i,    // clock
  input  logic                     rst_ni,   // asynchronous reset, active low
  input  logic                     clear_i,  // synchronous clear to +0
  input  logic                     en_i,     // accumulate a_i * b_i this cycle
  input  logic [ExpBits+ManBits:0] a_i,      // activation
  input  logic [ExpBits+ManBits:0] b_i,      // weight
  output logic [ExpBits+ManBits:0] acc_o     // running sum, same format
);
  logic [ExpBits+ManBits:0] p;
  fp_mul_rne #(.ExpBits(ExpBits), .ManBits(ManBits)) u_mul (.a_i(a_i), .b_i(b_i), .p_o(p));
  fp_acc #(.ExpBits(ExpBits), .ManBits(ManBits)) u_acc (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .en_i(en_i), .in_i(p), .acc_o(acc_o));
endmodule
