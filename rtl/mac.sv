// Multiply-accumulate processing element: an array or radix-4 Booth multiplier feeding
// an accumulator (the PE of the accelerator's MAC array).
module mac #(
  parameter int unsigned WidthA   = 8,
  parameter int unsigned WidthB   = 8,
  parameter int unsigned AccWidth = 32,
  parameter int unsigned Signed   = 1,
  parameter int unsigned Saturate = 0,
  parameter int unsigned Booth    = 0   // 0: mul_array, 1: mul_booth
) (
  input  logic                clk_i,       // clock
  input  logic                rst_ni,      // asynchronous reset, active low
  input  logic                clear_i,     // synchronous clear of the accumulator
  input  logic                en_i,        // accumulate a_i * b_i this cycle
  input  logic [WidthA-1:0]   a_i,         // activation
  input  logic [WidthB-1:0]   b_i,         // weight
  output logic [AccWidth-1:0] acc_o,       // accumulated sum of products
  output logic                overflow_o   // last enabled accumulation overflowed
);
  logic [WidthA+WidthB-1:0] product;
  if (Booth != 0) begin : g_booth
    mul_booth #(.WidthA(WidthA), .WidthB(WidthB), .Signed(Signed)) u_mul (.a_i(a_i), .b_i(b_i), .p_o(product));
  end else begin : g_array
    mul_array #(.WidthA(WidthA), .WidthB(WidthB), .Signed(Signed)) u_mul (.a_i(a_i), .b_i(b_i), .p_o(product));
  end
  accumulator #(.Width(AccWidth), .InWidth(WidthA + WidthB), .Signed(Signed), .Saturate(Saturate)) u_acc (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .en_i(en_i), .in_i(product),
    .acc_o(acc_o), .overflow_o(overflow_o)
  );
endmodule
