// Ripple-carry adder: a chain of Width full adders (smallest area, longest carry path).
module add_ripple #(
  parameter int unsigned Width = 8
) (
  input  logic [Width-1:0] a_i,    // addend
  input  logic [Width-1:0] b_i,    // addend
  input  logic             cin_i,  // carry in
  output logic [Width-1:0] sum_o,  // sum modulo 2^Width
  output logic             cout_o  // carry out of the top bit
);
  logic [Width:0] carry;
  assign carry[0] = cin_i;
  for (genvar i = 0; i < Width; i++) begin : g_bit
    fa u_fa (.a_i(a_i[i]), .b_i(b_i[i]), .c_i(carry[i]), .s_o(sum_o[i]), .c_o(carry[i+1]));
  end
  assign cout_o = carry[Width];
endmodule
