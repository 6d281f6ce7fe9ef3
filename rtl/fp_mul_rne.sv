// Floating-point multiplier with one rounding (to nearest, ties to even) back into the
// operand format: IEEE-style encoding (FP16, BF16, FP32, E5M2), subnormal inputs and
// outputs, overflow to inf, inf/NaN. Datapath: unpack (implicit bit, subnormals),
// significand multiply (mul_array), exponent add, leading-one normalisation, a right
// shift into the subnormal range that jams the shifted-out bits into a sticky bit,
// round on guard/sticky, pack.
module fp_mul_rne #(
  parameter int unsigned ExpBits = 5,
  parameter int unsigned ManBits = 10
) (
  input  logic [ExpBits+ManBits:0] a_i,  // {sign, exponent, mantissa}
  input  logic [ExpBits+ManBits:0] b_i,  // {sign, exponent, mantissa}
  output logic [ExpBits+ManBits:0] p_o   // a·b rounded to nearest even
);
  localparam int unsigned Bias  = (1 << (ExpBits - 1)) - 1;
  localparam int unsigned SigW  = ManBits + 1;        // significand with implicit bit
  localparam int unsigned ProdW = 2 * SigW;           // product of significands
  localparam int unsigned EW    = ExpBits + 4;        // signed exponent arithmetic width
  localparam int unsigned LW    = $clog2(ProdW);
  localparam int unsigned DW    = $clog2(ProdW + 1);  // subnormal shift amount

  logic sa, sb;
  logic [ExpBits-1:0] ea, eb;
  logic [ManBits-1:0] ma, mb;
  assign {sa, ea, ma} = a_i;
  assign {sb, eb, mb} = b_i;

  logic a_nan, b_nan, a_inf, b_inf, a_zero, b_zero;
  assign a_nan  = (&ea) & (|ma);
  assign b_nan  = (&eb) & (|mb);
  assign a_inf  = (&ea) & ~(|ma);
  assign b_inf  = (&eb) & ~(|mb);
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

  // Leading one: prod = 1.f × 2^msb in units of 2^-(2*ManBits).
  logic [LW-1:0] msb;
  always_comb begin
    msb = '0;
    for (int i = 0; i < ProdW; i++) if (prod[i]) msb = LW'(i);
  end
  logic [ProdW-1:0] norm;  // leading one at the top bit
  assign norm = prod << (LW'(ProdW - 1) - msb);
  // Biased exponent of the normalised product.
  logic signed [EW-1:0] be;
  assign be = xa + xb + EW'(msb) - EW'(2 * ManBits) + EW'(Bias);

  // Below the normal range (be <= 0): shift right by 1 - be; lost bits go to sticky.
  logic sub;
  assign sub = be < EW'(1);
  logic [DW-1:0] dsh;
  always_comb begin
    if (!sub) dsh = '0;
    else if ((EW'(1) - be) > EW'(ProdW)) dsh = DW'(ProdW);
    else dsh = DW'(EW'(1) - be);
  end
  logic [ProdW-1:0] shifted;
  logic lost;
  assign shifted = norm >> dsh;
  assign lost = |(norm & ~({ProdW{1'b1}} << dsh));

  // Round to nearest even on guard and sticky.
  logic [SigW-1:0] kept;
  logic guard, rest, up;
  assign kept  = shifted[ProdW-1 -: SigW];
  assign guard = shifted[ProdW-1-SigW];
  assign rest  = (|shifted[ProdW-2-SigW:0]) | lost;
  assign up    = guard & (rest | kept[0]);
  logic [SigW:0] rounded;
  assign rounded = {1'b0, kept} + (SigW + 1)'(up);

  logic signed [EW-1:0] e_final;
  logic [ManBits-1:0] m_final;
  always_comb begin
    if (sub) begin  // rounding may carry a subnormal up to the smallest normal
      e_final = rounded[ManBits] ? EW'(1) : '0;
      m_final = rounded[ManBits-1:0];
    end else if (rounded[SigW]) begin  // carry out of the significand: 1.11..1 → 10.0
      e_final = be + EW'(1);
      m_final = '0;
    end else begin
      e_final = be;
      m_final = rounded[ManBits-1:0];
    end
  end

  logic sign, is_nan, is_inf, is_zero, overflow;
  assign sign     = sa ^ sb;
  assign is_nan   = a_nan | b_nan | (a_inf & b_zero) | (b_inf & a_zero);
  assign is_inf   = a_inf | b_inf;
  assign is_zero  = a_zero | b_zero;
  assign overflow = e_final >= EW'((1 << ExpBits) - 1);
  always_comb begin
    if (is_nan)
      p_o = {1'b0, {ExpBits{1'b1}}, 1'b1, {(ManBits-1){1'b0}}};  // canonical quiet NaN
    else if (is_inf | (overflow & ~is_zero))
      p_o = {sign, {ExpBits{1'b1}}, {ManBits{1'b0}}};
    else if (is_zero)
      p_o = {sign, {(ExpBits + ManBits){1'b0}}};
    else
      p_o = {sign, e_final[ExpBits-1:0], m_final};
  end
endmodule
