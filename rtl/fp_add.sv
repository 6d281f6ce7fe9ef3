// Floating-point adder, round to nearest even, IEEE-style encoding with subnormals,
// inf and NaN (FP16, BF16, FP32, E5M2, ...). Datapath: unpack, order by magnitude,
// align the smaller significand with 3 extra bits and the shifted-out bits jammed into
// its LSB, add or subtract, normalise (right by one on carry, left by the leading-zero
// count but never below the smallest exponent), round on guard/sticky, pack.
module fp_add #(
  parameter int unsigned ExpBits = 5,
  parameter int unsigned ManBits = 10   // (the exponent bias does not enter an adder)
) (
  input  logic [ExpBits+ManBits:0] a_i,  // {sign, exponent, mantissa}
  input  logic [ExpBits+ManBits:0] b_i,  // {sign, exponent, mantissa}
  output logic [ExpBits+ManBits:0] s_o   // a + b, rounded to nearest even
);
  localparam int unsigned SW = ManBits + 5;        // carry, implicit bit, mantissa, 3 extra bits
  localparam int unsigned EW = ExpBits + 2;        // exponent arithmetic (unsigned, biased)
  localparam int unsigned LW = $clog2(SW + 1);
  // Not '1: Yosys 0.23 reads a fill literal in a typed localparam as a 1-bit 1 (ExpMax = 1),
  // which synthesised an adder whose every sum left as the overflow branch's {sign, 1, 0}
  // (Verilator reads it right; tests/power_models/gate_sim_test.cpp now checks the netlists).
  localparam logic [ExpBits-1:0] ExpMax = {ExpBits{1'b1}};

  logic swap;
  logic [ExpBits+ManBits:0] x, y;  // |x| >= |y|
  assign swap = a_i[ExpBits+ManBits-1:0] < b_i[ExpBits+ManBits-1:0];
  assign x = swap ? b_i : a_i;
  assign y = swap ? a_i : b_i;

  logic sx, sy;
  logic [ExpBits-1:0] ex, ey;
  logic [ManBits-1:0] mx, my;
  assign {sx, ex, mx} = x;
  assign {sy, ey, my} = y;

  // Specials.
  logic x_nan, y_nan, x_inf, y_inf;
  assign x_nan = (ex == ExpMax) & (|mx);
  assign y_nan = (ey == ExpMax) & (|my);
  assign x_inf = (ex == ExpMax) & ~(|mx);
  assign y_inf = (ey == ExpMax) & ~(|my);

  // Aligned significands; subnormals use exponent 1 and no implicit bit.
  logic [EW-1:0] bx, by, d;
  assign bx = (|ex) ? EW'(ex) : EW'(1);
  assign by = (|ey) ? EW'(ey) : EW'(1);
  assign d  = bx - by;
  logic [SW-1:0] fx, fy, fy_shift;
  assign fx = {1'b0, |ex, mx, 3'b000};
  assign fy = {1'b0, |ey, my, 3'b000};
  logic lost;
  always_comb begin
    if (d >= EW'(SW)) begin
      fy_shift = '0;
      lost = |fy;
    end else begin
      fy_shift = fy >> d;
      lost = |(fy & ~({SW{1'b1}} << d));
    end
  end
  logic [SW-1:0] fy_jam, sum;
  assign fy_jam = fy_shift | SW'(lost);
  logic sub;
  assign sub = sx ^ sy;
  assign sum = sub ? fx - fy_jam : fx + fy_jam;

  // Normalise. Carry: shift right by one, jamming the lost bit. Otherwise shift left by
  // the leading-zero count of sum[SW-2:0], limited so the exponent stays >= 1.
  logic [LW-1:0] lz;
  always_comb begin
    lz = LW'(SW - 1);
    for (int i = 0; i < SW - 1; i++) if (sum[i]) lz = LW'(SW - 2 - i);
  end
  logic [EW-1:0] limit, shl;
  assign limit = bx - EW'(1);
  assign shl = (EW'(lz) > limit) ? limit : EW'(lz);
  logic [SW-1:0] norm;
  logic [EW-1:0] en;
  always_comb begin
    if (sum[SW-1]) begin
      norm = {1'b0, sum[SW-1:1]} | SW'(sum[0]);
      en = bx + EW'(1);
    end else begin
      norm = sum << shl;
      en = bx - shl;
    end
  end
  // norm = {0, implicit, mantissa, guard, round, sticky}; round to nearest even.
  logic unused_norm_top;
  assign unused_norm_top = norm[SW-1];  // zero after normalisation
  logic [ManBits:0] kept;
  logic guard, rest, up;
  assign kept  = norm[SW-2:3];
  assign guard = norm[2];
  assign rest  = norm[1] | norm[0];
  assign up    = guard & (rest | kept[0]);
  logic [ManBits+1:0] rounded;
  assign rounded = {1'b0, kept} + (ManBits + 2)'(up);
  logic [EW-1:0] e_final;
  logic [ManBits-1:0] m_final;
  always_comb begin
    if (rounded[ManBits+1]) begin  // rounding carried out of the significand
      e_final = en + EW'(1);
      m_final = '0;
    end else begin
      // No implicit bit left: a subnormal (exponent field 0).
      e_final = rounded[ManBits] ? en : '0;
      m_final = rounded[ManBits-1:0];
    end
  end

  always_comb begin
    if (x_nan | y_nan | (x_inf & y_inf & sub))
      s_o = {1'b0, ExpMax, 1'b1, {(ManBits-1){1'b0}}};  // canonical quiet NaN
    else if (x_inf)
      s_o = x;
    else if (sum == '0)
      s_o = {sx & sy, {(ExpBits + ManBits){1'b0}}};  // +0 unless both operands are -0
    else if (e_final >= EW'(ExpMax))
      s_o = {sx, ExpMax, {ManBits{1'b0}}};  // overflow to inf
    else
      s_o = {sx, e_final[ExpBits-1:0], m_final};
  end
endmodule
