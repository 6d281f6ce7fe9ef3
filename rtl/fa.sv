// Full adder cell: the 3:2 compressor every multiplier and adder here is built from.
module fa (
  input  logic a_i,   // addend
  input  logic b_i,   // addend
  input  logic c_i,   // carry in
  output logic s_o,   // sum
  output logic c_o    // carry out
);
  assign s_o = a_i ^ b_i ^ c_i;
  assign c_o = (a_i & b_i) | (a_i & c_i) | (b_i & c_i);
endmodule
