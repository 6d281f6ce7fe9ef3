// An FP16 adder in a style unlike lpsim's fp_add (align, add, normalise with guard/sticky
// bits): both operands are turned into exact 41-bit fixed-point integers (every FP16
// value is a multiple of 2^-24 below 2^16), added exactly, and the sum rounded once to
// nearest even. IEEE specials: NaN in -> the canonical quiet NaN 0x7E00, inf - inf -> NaN,
// overflow -> inf, exact cancellation -> +0 (-0 only for -0 + -0). The tests inject a
// fault into it (ties rounded away from zero instead of to even).
module fx_fp16_add (
  input  logic [15:0] a,
  input  logic [15:0] b,
  output logic [15:0] s
);
  function automatic logic signed [42:0] fixed(input logic [15:0] f);
    logic [10:0] sig;
    logic [41:0] mag;
    sig = {f[14:10] != 5'd0, f[9:0]};
    mag = {31'd0, sig} << (f[14:10] == 5'd0 ? 5'd0 : f[14:10] - 5'd1);  // value = mag * 2^-24
    fixed = f[15] ? -$signed({1'b0, mag}) : $signed({1'b0, mag});
  endfunction

  logic a_nan, b_nan, a_inf, b_inf;
  logic signed [42:0] sum;
  logic [42:0] mag, shifted;
  logic [5:0] top;        // position of the leading one of mag
  logic [5:0] shift;
  logic [10:0] keep;
  logic [11:0] rounded;
  logic guard, sticky;
  logic [5:0] exp_field;

  assign a_nan = a[14:10] == 5'h1f && a[9:0] != 0;
  assign b_nan = b[14:10] == 5'h1f && b[9:0] != 0;
  assign a_inf = a[14:10] == 5'h1f && a[9:0] == 0;
  assign b_inf = b[14:10] == 5'h1f && b[9:0] == 0;

  always_comb begin
    sum = fixed(a) + fixed(b);
    mag = sum[42] ? -sum : sum;
    top = 6'd0;
    for (int i = 0; i < 43; i++)
      if (mag[i]) top = i[5:0];
    guard = 1'b0;
    sticky = 1'b0;
    shifted = mag;
    if (top <= 6'd10) begin  // subnormal or the smallest binade: exact
      shift = 0;
      keep = mag[10:0];
      exp_field = {5'd0, top == 6'd10};
      rounded = {1'b0, keep};
    end else begin
      shift = top - 6'd10;
      shifted = mag >> shift;
      keep = shifted[10:0];
      guard = mag[shift - 1];
      sticky = (mag & ((43'd1 << (shift - 1)) - 43'd1)) != 0;
      rounded = {1'b0, keep} + {11'd0, guard && (sticky || keep[0])};
      exp_field = shift + 6'd1;
      if (rounded[11]) begin  // rounding carried into a new binade
        rounded = rounded >> 1;
        exp_field = exp_field + 6'd1;
      end
    end
    if (a_nan || b_nan || (a_inf && b_inf && a[15] != b[15])) s = 16'h7e00;
    else if (a_inf) s = a;
    else if (b_inf) s = b;
    else if (mag == 0) s = {a[15] & b[15], 15'd0};
    else if (exp_field >= 6'd31) s = {sum[42], 5'h1f, 10'd0};
    else s = {sum[42], exp_field[4:0], rounded[9:0]};
  end
endmodule
