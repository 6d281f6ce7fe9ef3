// Accumulating adder, the combinational half of accumulator and mac_ws (one copy, so
// that the sequential and the weight-stationary integer PEs add, wrap and saturate
// alike): the InWidth-bit addend, sign- (Signed) or zero-extended to Width bits, is
// added to the Width-bit running value by a ripple-carry adder. Overflow: two's
// complement, two operands of one sign giving a result of the other sign; unsigned,
// the carry out. Wrap-around keeps the low Width bits, Saturate clamps to the range.
module acc_add #(
  parameter int unsigned Width    = 32,
  parameter int unsigned InWidth  = 16,
  parameter int unsigned Signed   = 1,
  parameter int unsigned Saturate = 0
) (
  input  logic [Width-1:0]   acc_i,       // running value
  input  logic [InWidth-1:0] in_i,        // addend
  output logic [Width-1:0]   sum_o,       // acc_i + in_i, wrapped or saturated
  output logic               overflow_o   // the addition left the Width-bit range
);
  logic [Width-1:0] in_ext, sum;
  logic cout;
  if (Signed != 0) begin : g_sext
    assign in_ext = Width'($signed(in_i));
  end else begin : g_zext
    assign in_ext = Width'(in_i);
  end
  add_ripple #(.Width(Width)) u_add (.a_i(acc_i), .b_i(in_ext), .cin_i(1'b0), .sum_o(sum), .cout_o(cout));
  if (Signed != 0) begin : g_sovf
    logic unused_cout;
    assign unused_cout = cout;  // signed overflow is read off the sign bits instead
    assign overflow_o = (acc_i[Width-1] == in_ext[Width-1]) && (sum[Width-1] != acc_i[Width-1]);
    if (Saturate != 0) begin : g_sat
      assign sum_o = overflow_o ? (in_ext[Width-1] ? {1'b1, {(Width-1){1'b0}}} : {1'b0, {(Width-1){1'b1}}}) : sum;
    end else begin : g_wrap
      assign sum_o = sum;
    end
  end else begin : g_uovf
    assign overflow_o = cout;
    if (Saturate != 0) begin : g_sat
      assign sum_o = overflow_o ? {Width{1'b1}} : sum;
    end else begin : g_wrap
      assign sum_o = sum;
    end
  end
endmodule
