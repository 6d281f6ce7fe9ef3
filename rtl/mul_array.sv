// Array (carry-save) multiplier: an AND-gate partial-product matrix accumulated row by
// row through a linear chain of full-adder rows, then a ripple-carry adder. Signed
// operands use the modified Baugh-Wooley form: the partial products that involve
// exactly one sign bit are inverted and constant ones are added at columns WidthA-1,
// WidthB-1 and WidthA+WidthB-1, so the matrix stays all-positive.
module mul_array #(
  parameter int unsigned WidthA = 8,
  parameter int unsigned WidthB = 8,
  parameter int unsigned Signed = 0
) (
  input  logic [WidthA-1:0]        a_i,  // multiplicand (two's complement if Signed)
  input  logic [WidthB-1:0]        b_i,  // multiplier (two's complement if Signed)
  output logic [WidthA+WidthB-1:0] p_o   // exact product
);
  localparam int unsigned W = WidthA + WidthB;
  localparam int unsigned Rows = WidthB + 1;  // one row per multiplier bit + constants
  logic [W-1:0] row [Rows];
  for (genvar j = 0; j < WidthB; j++) begin : g_pp
    logic [WidthA-1:0] pp;
    for (genvar i = 0; i < WidthA; i++) begin : g_bit
      if ((Signed != 0) && ((i == WidthA - 1) != (j == WidthB - 1))) begin : g_inv
        assign pp[i] = ~(a_i[i] & b_i[j]);
      end else begin : g_and
        assign pp[i] = a_i[i] & b_i[j];
      end
    end
    assign row[j] = W'(pp) << j;
  end
  if (Signed != 0) begin : g_bw_const
    assign row[WidthB] = (W'(1) << (WidthA - 1)) + (W'(1) << (WidthB - 1)) + (W'(1) << (W - 1));
  end else begin : g_no_const
    assign row[WidthB] = '0;
  end
  // Carry-save chain: (sum, carry) absorbs one row per full-adder row.
  logic [W-1:0] sum [Rows-1];
  logic [W-1:0] carry [Rows-1];
  assign sum[0]   = row[0];
  assign carry[0] = row[1];
  for (genvar r = 2; r < Rows; r++) begin : g_csa
    logic [W-1:0] s, c;
    for (genvar i = 0; i < W; i++) begin : g_bit
      fa u_fa (.a_i(sum[r-2][i]), .b_i(carry[r-2][i]), .c_i(row[r][i]), .s_o(s[i]), .c_o(c[i]));
    end
    assign sum[r-1]   = s;
    assign carry[r-1] = {c[W-2:0], 1'b0};
    logic unused_top_carry;
    assign unused_top_carry = c[W-1];  // weight 2^W: outside the product (mod 2^W)
  end
  logic unused_cout;
  add_ripple #(.Width(W)) u_final (
    .a_i(sum[Rows-2]), .b_i(carry[Rows-2]), .cin_i(1'b0), .sum_o(p_o), .cout_o(unused_cout)
  );
endmodule
