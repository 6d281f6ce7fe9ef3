// LUQ multiplier-free MAC (papers.md §2): the shift-and-negate INT4 × radix-2 FP4 unit
// (luq_mul) feeding an integer accumulator — the backward-pass PE of 4-bit training.
module luq_mac #(
  parameter int unsigned AccWidth = 24,
  parameter int unsigned Saturate = 0,
  parameter int unsigned WidthA = 4   // activation width (5: an unsigned 4-bit code, zero-extended)
) (
  input  logic                clk_i,       // clock
  input  logic                rst_ni,      // asynchronous reset, active low
  input  logic                clear_i,     // synchronous clear of the accumulator
  input  logic                en_i,        // accumulate a_i * w_i this cycle
  input  logic [WidthA-1:0]   a_i,         // signed activation (INT4 by default)
  input  logic [3:0]          b_i,         // radix-2 FP4 gradient {sign, e[2:0]}
  output logic [AccWidth-1:0] acc_o,       // accumulated sum of products
  output logic                overflow_o   // last enabled accumulation overflowed
);
  logic [WidthA+6:0] product;
  luq_mul #(.WidthA(WidthA)) u_mul (.a_i(a_i), .w_i(b_i), .p_o(product));
  accumulator #(.Width(AccWidth), .InWidth(WidthA + 7), .Signed(1), .Saturate(Saturate)) u_acc (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .en_i(en_i), .in_i(product),
    .acc_o(acc_o), .overflow_o(overflow_o)
  );
endmodule
