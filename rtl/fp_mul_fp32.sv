// Exact FP8 (or FP16) product as FP32, the multiplier of fp8_mac and fp8_mac_ws (one
// copy of the widening, so that both PEs feed their FP32 adder the same value): fp_mul's
// exact product (ExpBits+2 exponent, 2*ManBits+1 mantissa bits) widened to FP32 without
// rounding. fp_mul's products are normal or zero, so only the exponent is re-biased;
// the all-ones exponent (inf/NaN) maps to all ones, the mantissa is padded with zeros.
module fp_mul_fp32 #(
  parameter int unsigned ExpBits    = 4,
  parameter int unsigned ManBits    = 3,
  parameter int unsigned Bias       = 7,
  parameter int unsigned FnSpecials = 1
) (
  input  logic [ExpBits+ManBits:0] a_i,  // {sign, exponent, mantissa}
  input  logic [ExpBits+ManBits:0] b_i,  // {sign, exponent, mantissa}
  output logic [31:0]              p_o   // a_i * b_i, FP32
);
  localparam int unsigned PE = ExpBits + 2, PM = 2 * ManBits + 1;  // product format
  localparam int unsigned PBias = (1 << (PE - 1)) - 1;
  logic [PE+PM:0] p;
  fp_mul #(.ExpBits(ExpBits), .ManBits(ManBits), .Bias(Bias), .FnSpecials(FnSpecials)) u_mul (
    .a_i(a_i), .b_i(b_i), .p_o(p));
  logic ps;
  logic [PE-1:0] pe;
  logic [PM-1:0] pm;
  assign {ps, pe, pm} = p;
  always_comb begin
    if (pe == '0) p_o = {ps, 31'b0};
    else if (&pe) p_o = {ps, 8'hFF, pm, {(23 - PM){1'b0}}};
    else p_o = {ps, 8'(pe) - 8'(PBias) + 8'd127, pm, {(23 - PM){1'b0}}};
  end
endmodule
