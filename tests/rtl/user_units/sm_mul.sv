// A signed multiplier as a designer might write it, in a style unlike lpsim's structural
// array and Booth multipliers: sign-magnitude around a behavioural `*`. Used by the tests
// of `lpsim verify-rtl --rtl` / `lpsim energy --rtl` (tests/cli/user_rtl_test.sh), which
// also inject a fault into it (the sign's `^` flipped to `|`).
module sm_mul #(
  parameter int W = 8
) (
  input  logic [W-1:0]   x,     // two's complement
  input  logic [W-1:0]   y_in,  // two's complement
  output logic [2*W-1:0] prod   // x * y_in, two's complement
);
  logic [W-1:0] ax, ay;
  logic [2*W-1:0] mag;
  logic neg;
  assign ax = x[W-1] ? ~x + 1'b1 : x;            // |x| (|-2^(W-1)| = 2^(W-1) fits unsigned)
  assign ay = y_in[W-1] ? ~y_in + 1'b1 : y_in;
  assign mag = ax * ay;
  assign neg = x[W-1] ^ y_in[W-1];
  assign prod = neg ? ~mag + 1'b1 : mag;
endmodule
