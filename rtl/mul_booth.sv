// Radix-4 Booth multiplier: the multiplier is recoded into digits d_k in {-2..2}, one
// partial product d_k·a per two bits (half the rows of the array multiplier), which a
// Wallace tree of full adders (csa_tree) reduces to two rows for a Kogge-Stone adder.
// Negative digits invert the row and add a 1 at its LSB (a separate row of "neg" bits).
// Unsigned operands are zero-extended by one bit and treated as signed. Rows are sign-
// extended to the full product width (no sign-extension-elimination constants).
module mul_booth #(
  parameter int unsigned WidthA = 8,
  parameter int unsigned WidthB = 8,
  parameter int unsigned Signed = 0
) (
  input  logic [WidthA-1:0]        a_i,  // multiplicand (two's complement if Signed)
  input  logic [WidthB-1:0]        b_i,  // multiplier (two's complement if Signed)
  output logic [WidthA+WidthB-1:0] p_o   // exact product
);
  localparam int unsigned W  = WidthA + WidthB;
  localparam int unsigned BW = (Signed != 0) ? WidthB : WidthB + 1;  // signed width of b
  localparam int unsigned Digits = (BW + 1) / 2;
  localparam int unsigned BE = 2 * Digits + 1;                 // b with a 0 below, sign-extended
  logic [W-1:0] a_ext;     // a as a W-bit two's complement number
  logic [BE-1:0] b_ext;    // {sign extension, b, 0}
  if (Signed != 0) begin : g_signed
    assign a_ext = W'($signed(a_i));
    assign b_ext = {{(BE - WidthB - 1){b_i[WidthB-1]}}, b_i, 1'b0};
  end else begin : g_unsigned
    assign a_ext = W'(a_i);
    assign b_ext = {{(BE - WidthB - 1){1'b0}}, b_i, 1'b0};
  end
  logic [(Digits+1)*W-1:0] rows;
  logic [W-1:0] neg_row;
  for (genvar k = 0; k < Digits; k++) begin : g_digit
    // Booth encoding of bits (b[2k+1], b[2k], b[2k-1]).
    logic [2:0] trip;
    logic one, two, neg;
    logic [W-1:0] mag;
    assign trip = b_ext[2*k +: 3];
    assign one  = trip[1] ^ trip[0];
    assign two  = (trip[2] & ~trip[1] & ~trip[0]) | (~trip[2] & trip[1] & trip[0]);
    assign neg  = trip[2] & ~(trip[1] & trip[0]);
    for (genvar i = 0; i < W; i++) begin : g_bit
      if (i == 0) begin : g_lsb
        assign mag[i] = one & a_ext[0];
      end else begin : g_mux
        assign mag[i] = (one & a_ext[i]) | (two & a_ext[i-1]);
      end
    end
    assign rows[k*W +: W] = (mag ^ {W{neg}}) << (2 * k);
    // The +1 of the two's complement, at the row's LSB: (~m << 2k) + (1 << 2k) equals
    // -m << 2k modulo 2^W.
    assign neg_row[2*k +: 2] = {1'b0, neg};
  end
  if (2 * Digits < W) begin : g_neg_pad
    assign neg_row[W-1:2*Digits] = '0;
  end
  assign rows[Digits*W +: W] = neg_row;
  logic [W-1:0] sum, carry;
  csa_tree #(.Rows(Digits + 1), .Width(W)) u_tree (.rows_i(rows), .sum_o(sum), .carry_o(carry));
  logic unused_cout;
  add_kogge_stone #(.Width(W)) u_final (.a_i(sum), .b_i(carry), .cin_i(1'b0), .sum_o(p_o), .cout_o(unused_cout));
endmodule
