// LNS unit A (issue 17; golden model arith::lns_unit_a): log-multiply and exact linear
// (Kulisch) accumulation. Operands are L(ExpBits, FracBits) codes {sign, e}: e is an
// ExpBits-bit two's-complement log with FracBits fraction bits, value (-1)^s 2^(e/2^b),
// the most negative e is zero (either sign). The product's log p = e_a + e_b needs no
// multiplier; it splits into q = p >> b (floor) and r = p mod 2^b, and the term
// ±LUT[r] << (q - q_min), LUT[r] = RNE(2^(r/2^b)·2^Alpha) from lns_pow2_rom, is added into
// an AccWidth-bit two's-complement register (a ripple adder, as mac's) that wraps. Every
// term is a multiple of 2^(q_min - Alpha): the sum is exact and order-independent.
// overflow_o is sticky: set by an enabled addition whose exact sum left the AccWidth
// range, cleared only by clear_i or reset (arith's flag). AccWidth =
// lns_linear_acc_bits(K) = Alpha + 2 + (q_max - q_min) + ceil(log2 K) cannot overflow for
// K terms. A zero operand adds nothing.
module lns_mac #(
  parameter int unsigned ExpBits  = 7,   // W_e: bits of the log code
  parameter int unsigned FracBits = 3,   // b: fraction bits of the log (γ = 2^b)
  parameter int unsigned Alpha    = 6,   // fraction bits of the conversion table
  parameter int unsigned AccWidth = 51
) (
  input  logic                clk_i,       // clock
  input  logic                rst_ni,      // asynchronous reset, active low
  input  logic                clear_i,     // synchronous clear of the sum and the flag (wins over en_i)
  input  logic                en_i,        // accumulate a_i * b_i this cycle
  input  logic [ExpBits:0]    a_i,         // L(ExpBits, FracBits) code {sign, e}
  input  logic [ExpBits:0]    b_i,         // L(ExpBits, FracBits) code {sign, e}
  output logic [AccWidth-1:0] acc_o,       // the sum in units of 2^(q_min - Alpha)
  output logic                overflow_o   // sticky: some addition since the clear overflowed
);
  localparam int EMin = 1 - (1 << (ExpBits - 1));  // smallest nonzero log
  localparam int EMax = (1 << (ExpBits - 1)) - 1;
  localparam int QMin = (2 * EMin) >>> FracBits;    // floor of the smallest product's log
  localparam int QMax = (2 * EMax) >>> FracBits;
  localparam int unsigned Span  = QMax - QMin;      // the terms' shift range
  localparam int unsigned PW    = ExpBits + 1;      // the product's log, two's complement
  localparam int unsigned SW    = $clog2(Span + 1); // shift amount
  localparam int unsigned TermW = Alpha + 1 + Span; // |term| < 2^(Alpha + 1 + Span)
  localparam int unsigned SumW  = (TermW + 1 > AccWidth ? TermW + 1 : AccWidth) + 1;  // exact sum

  // The product: sign, log, and whether an operand is the zero code.
  logic zero, neg;
  logic [PW-1:0] p, q;
  logic [SW-1:0] shift;
  assign zero = (a_i[ExpBits-1:0] == {1'b1, {(ExpBits-1){1'b0}}}) | (b_i[ExpBits-1:0] == {1'b1, {(ExpBits-1){1'b0}}});
  assign neg  = a_i[ExpBits] ^ b_i[ExpBits];  // a zero term adds ~0 + 1 = 0 whatever neg is
  assign p    = {a_i[ExpBits-1], a_i[ExpBits-1:0]} + {b_i[ExpBits-1], b_i[ExpBits-1:0]};
  assign q    = PW'($signed(p) >>> FracBits);  // floor(p / γ)
  assign shift = SW'(q - PW'(QMin));           // 0 .. Span for two nonzero operands

  // LUT[r], r = p mod γ (the low b bits of p).
  logic [Alpha:0] lut;
  if (FracBits > 0) begin : g_frac
    lns_pow2_rom #(.FracBits(FracBits), .Alpha(Alpha)) u_lut (.r_i(p[FracBits-1:0]), .lut_o(lut));
  end else begin : g_radix2
    lns_pow2_rom #(.FracBits(0), .Alpha(Alpha)) u_lut (.r_i(1'b0), .lut_o(lut));
  end

  // |term| = LUT[r] << (q - q_min): a barrel shift. The sign is applied in the adder
  // (invert and carry in), so no separate negation.
  logic [TermW-1:0] mag;
  logic [SumW-1:0] acc_ext, term_ext, sum;
  logic unused_cout;
  assign mag      = zero ? '0 : (TermW'(lut) << shift);
  assign acc_ext  = SumW'($signed(acc_o));
  assign term_ext = SumW'(mag) ^ {SumW{neg}};
  add_ripple #(.Width(SumW)) u_add (.a_i(acc_ext), .b_i(term_ext), .cin_i(neg), .sum_o(sum), .cout_o(unused_cout));

  // The exact sum fits AccWidth bits when its bits from AccWidth-1 up are all equal.
  logic ovf;
  assign ovf = (sum[SumW-1:AccWidth-1] != '0) && (sum[SumW-1:AccWidth-1] != '1);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_o      <= '0;
      overflow_o <= 1'b0;
    end else if (clear_i) begin
      acc_o      <= '0;
      overflow_o <= 1'b0;
    end else if (en_i) begin
      acc_o      <= sum[AccWidth-1:0];
      overflow_o <= overflow_o | ovf;
    end
  end
endmodule
