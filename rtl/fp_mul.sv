// Exact floating-point multiplier for small formats (OCP FP8 E4M3 / E5M2): the product
// of two ExpBits/ManBits values in an IEEE-style format with ExpBits+2 exponent and
// 2*ManBits+1 mantissa bits, which holds every product exactly (subnormal inputs
// included), so there is no rounding. Datapath: unpack (implicit bit, subnormals),
// significand multiply (mul_array), exponent add, leading-one normalisation, specials.
// FnSpecials=1: E4M3 encoding (no inf, only S.1..1 is NaN); 0: IEEE (E5M2).
module fp_mul #(
  parameter int unsigned ExpBits    = 4,
  parameter int unsigned ManBits    = 3,
  parameter int unsigned Bias       = 7,
  parameter int unsigned FnSpecials = 1
) (
  input  logic [ExpBits+ManBits:0]       a_i,  // {sign, exponent, mantissa}
  input  logic [ExpBits+ManBits:0]       b_i,  // {sign, exponent, mantissa}
  output logic [ExpBits+2*ManBits+3:0]   p_o   // {sign, ExpBits+2 exp, 2*ManBits+1 man}
);
  localparam int unsigned OutExp  = ExpBits + 2;
  localparam int unsigned OutMan  = 2 * ManBits + 1;
  localparam int unsigned OutBias = (1 << (OutExp - 1)) - 1;
  localparam int unsigned SigW    = ManBits + 1;       // significand with implicit bit
  localparam int unsigned ProdW   = 2 * SigW;          // product of significands
  localparam int unsigned EW      = OutExp + 2;        // signed exponent arithmetic width

  logic sa, sb;
  logic [ExpBits-1:0] ea, eb;
  logic [ManBits-1:0] ma, mb;
  assign {sa, ea, ma} = a_i;
  assign {sb, eb, mb} = b_i;

  // Specials of the input encoding.
  logic a_max_exp, b_max_exp, a_nan, b_nan, a_inf, b_inf, a_zero, b_zero;
  assign a_max_exp = &ea;
  assign b_max_exp = &eb;
  if (FnSpecials != 0) begin : g_fn
    assign a_nan = a_max_exp & (&ma);
    assign b_nan = b_max_exp & (&mb);
    assign a_inf = 1'b0;
    assign b_inf = 1'b0;
  end else begin : g_ieee
    assign a_nan = a_max_exp & (|ma);
    assign b_nan = b_max_exp & (|mb);
    assign a_inf = a_max_exp & ~(|ma);
    assign b_inf = b_max_exp & ~(|mb);
  end
  assign a_zero = ~(|ea) & ~(|ma);
  assign b_zero = ~(|eb) & ~(|mb);

  // Significands (implicit 1 unless subnormal) and unbiased exponents (1-Bias if subnormal).
  logic [SigW-1:0] siga, sigb;
  assign siga = {|ea, ma};
  assign sigb = {|eb, mb};
  logic signed [EW-1:0] xa, xb;
  assign xa = (|ea) ? EW'(ea) - EW'(Bias) : EW'(1) - EW'(Bias);
  assign xb = (|eb) ? EW'(eb) - EW'(Bias) : EW'(1) - EW'(Bias);

  logic [ProdW-1:0] prod;
  mul_array #(.WidthA(SigW), .WidthB(SigW), .Signed(0)) u_sig (.a_i(siga), .b_i(sigb), .p_o(prod));

  // Leading one of the product: prod = 1.f × 2^msb in units of 2^-(2*ManBits).
  localparam int unsigned LW = $clog2(ProdW);
  logic [LW-1:0] msb;
  always_comb begin
    msb = '0;
    for (int i = 0; i < ProdW; i++) if (prod[i]) msb = LW'(i);
  end
  // Normalise: shift the bits below the leading one to the top of the mantissa field.
  logic [ProdW-1:0] norm;
  assign norm = prod << (LW'(ProdW - 1) - msb);
  logic [OutMan-1:0] man;
  assign man = norm[ProdW-2 -: OutMan];
  logic signed [EW-1:0] exp_out;
  assign exp_out = xa + xb + EW'(msb) - EW'(2 * ManBits) + EW'(OutBias);

  logic sign, is_nan, is_inf, is_zero;
  assign sign    = sa ^ sb;
  assign is_nan  = a_nan | b_nan | (a_inf & b_zero) | (b_inf & a_zero);
  assign is_inf  = a_inf | b_inf;
  assign is_zero = a_zero | b_zero;
  always_comb begin
    if (is_nan)
      p_o = {1'b0, {OutExp{1'b1}}, 1'b1, {(OutMan-1){1'b0}}};  // canonical quiet NaN
    else if (is_inf)
      p_o = {sign, {OutExp{1'b1}}, {OutMan{1'b0}}};
    else if (is_zero)
      p_o = {sign, {(OutExp + OutMan){1'b0}}};
    else
      p_o = {sign, exp_out[OutExp-1:0], man};
  end
  logic unused;
  assign unused = ^{exp_out[EW-1:OutExp], norm[ProdW-1]};  // in range by construction; the leading one
endmodule
