// Accumulator: a Width-bit register plus a ripple-carry adder. Each enabled cycle adds
// the sign- (or zero-) extended input; wrap-around keeps the low Width bits, Saturate
// clamps to the Width-bit range. Synchronous clear wins over enable; asynchronous
// active-low reset. overflow_o is registered: the last clock's addition left the range.
module accumulator #(
  parameter int unsigned Width    = 32,
  parameter int unsigned InWidth  = 16,
  parameter int unsigned Signed   = 1,
  parameter int unsigned Saturate = 0
) (
  input  logic               clk_i,       // clock
  input  logic               rst_ni,      // asynchronous reset, active low
  input  logic               clear_i,     // synchronous clear (wins over en_i)
  input  logic               en_i,        // add in_i this cycle
  input  logic [InWidth-1:0] in_i,        // addend
  output logic [Width-1:0]   acc_o,       // accumulated value
  output logic               overflow_o   // last enabled addition overflowed
);
  logic [Width-1:0] in_ext, sum, next;
  logic cout, ovf;
  if (Signed != 0) begin : g_sext
    assign in_ext = Width'($signed(in_i));
  end else begin : g_zext
    assign in_ext = Width'(in_i);
  end
  add_ripple #(.Width(Width)) u_add (.a_i(acc_o), .b_i(in_ext), .cin_i(1'b0), .sum_o(sum), .cout_o(cout));
  if (Signed != 0) begin : g_sovf
    logic unused_cout;
    assign unused_cout = cout;  // signed overflow is read off the sign bits instead
    // Two operands of one sign giving a result of the other sign.
    assign ovf = (acc_o[Width-1] == in_ext[Width-1]) && (sum[Width-1] != acc_o[Width-1]);
    if (Saturate != 0) begin : g_sat
      assign next = ovf ? (in_ext[Width-1] ? {1'b1, {(Width-1){1'b0}}} : {1'b0, {(Width-1){1'b1}}}) : sum;
    end else begin : g_wrap
      assign next = sum;
    end
  end else begin : g_uovf
    assign ovf = cout;
    if (Saturate != 0) begin : g_sat
      assign next = ovf ? {Width{1'b1}} : sum;
    end else begin : g_wrap
      assign next = sum;
    end
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_o      <= '0;
      overflow_o <= 1'b0;
    end else if (clear_i) begin
      acc_o      <= '0;
      overflow_o <= 1'b0;
    end else if (en_i) begin
      acc_o      <= next;
      overflow_o <= ovf;
    end else begin
      overflow_o <= 1'b0;
    end
  end
endmodule
