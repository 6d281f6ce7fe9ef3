// LUQ multiplier-free unit (papers.md §2): signed activation (INT4 by default; WidthA = 5
// holds an unsigned 4-bit code zero-extended, as a ReLU output's) × radix-2 FP4 gradient
// (sign bit + 3-bit exponent code e; e = 0 is zero, else magnitude 2^(e-1)). The
// product is a barrel shift of the activation by e-1 and a conditional negation.
module luq_mul #(
  parameter int unsigned WidthA = 4
) (
  input  logic [WidthA-1:0] a_i,  // signed activation (two's complement)
  input  logic [3:0]        w_i,  // radix-2 FP4: {sign, e[2:0]}
  output logic [WidthA+6:0] p_o   // exact signed product
);
  localparam int unsigned WidthP = WidthA + 7;  // |a|·2^6 for a = −2^(WidthA−1), negated
  logic [2:0] e;
  logic [WidthP-1:0] a_ext, s0, s1, s2, shifted, negated;
  logic unused_cout;
  assign e     = w_i[2:0] - 3'd1;  // shift amount (don't care when w_i[2:0] = 0)
  assign a_ext = WidthP'($signed(a_i));
  // Logarithmic barrel shifter: stages of 1, 2 and 4.
  assign s0 = e[0] ? {a_ext[WidthP-2:0], 1'b0} : a_ext;
  assign s1 = e[1] ? {s0[WidthP-3:0], 2'b0} : s0;
  assign s2 = e[2] ? {s1[WidthP-5:0], 4'b0} : s1;
  assign shifted = (w_i[2:0] == 3'd0) ? '0 : s2;
  // Negation as invert-and-increment through a ripple adder.
  add_ripple #(.Width(WidthP)) u_neg (.a_i(shifted ^ {WidthP{w_i[3]}}), .b_i('0), .cin_i(w_i[3]),
                                      .sum_o(negated), .cout_o(unused_cout));
  assign p_o = negated;
endmodule
