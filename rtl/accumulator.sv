// Accumulator: a Width-bit register plus acc_add (ripple-carry adder). Each enabled
// cycle adds the sign- (or zero-) extended input; wrap-around keeps the low Width bits,
// Saturate clamps to the Width-bit range. Synchronous clear wins over enable;
// asynchronous active-low reset. overflow_o is registered: the last clock's addition
// left the range.
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
  logic [Width-1:0] next;
  logic ovf;
  acc_add #(.Width(Width), .InWidth(InWidth), .Signed(Signed), .Saturate(Saturate)) u_add (
    .acc_i(acc_o), .in_i(in_i), .sum_o(next), .overflow_o(ovf));
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
