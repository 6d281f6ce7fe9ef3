// Weight-stationary integer PE of a systolic array: the weight sits in a register
// (loaded from b_i by w_load_i), the activation arrives from the left and is forwarded
// to the right neighbour one cycle later, the partial sum arrives from the PE above and
// leaves downwards one cycle later with a_i * w added. Unlike mac, there is no
// accumulator register of its own: the sum moves through the column, so the adder adds
// psum_i, and psum_o/a_o/overflow_o are the PE's pipeline registers.
// The product uses the weight register, not b_i: a weight loaded at this edge is used
// from the next cycle on (loading and computing in one cycle use the old weight).
// The addition is accumulator's (acc_add: sign- or zero-extended product, wrap or
// saturate), and so is the registered overflow flag. Multiplier as in mac (array or
// radix-4 Booth).
module mac_ws #(
  parameter int unsigned WidthA   = 8,
  parameter int unsigned WidthB   = 8,
  parameter int unsigned AccWidth = 32,  // >= WidthA + WidthB
  parameter int unsigned Signed   = 1,
  parameter int unsigned Saturate = 0,
  parameter int unsigned Booth    = 0    // 0: mul_array, 1: mul_booth
) (
  input  logic                clk_i,       // clock
  input  logic                rst_ni,      // asynchronous reset, active low
  input  logic                en_i,        // compute: psum_o <= psum_i + a_i * w, a_o <= a_i
  input  logic                w_load_i,    // load the weight register from b_i
  input  logic [WidthA-1:0]   a_i,         // activation from the left neighbour
  input  logic [WidthB-1:0]   b_i,         // weight to load
  input  logic [AccWidth-1:0] psum_i,      // partial sum from the PE above
  output logic [WidthA-1:0]   a_o,         // activation to the right neighbour
  output logic [AccWidth-1:0] psum_o,      // partial sum to the PE below
  output logic                overflow_o   // last enabled addition overflowed
);
  logic [WidthB-1:0] w_q;  // the stationary weight
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) w_q <= '0;
    else if (w_load_i) w_q <= b_i;
  end

  logic [WidthA+WidthB-1:0] product;
  if (Booth != 0) begin : g_booth
    mul_booth #(.WidthA(WidthA), .WidthB(WidthB), .Signed(Signed)) u_mul (.a_i(a_i), .b_i(w_q), .p_o(product));
  end else begin : g_array
    mul_array #(.WidthA(WidthA), .WidthB(WidthB), .Signed(Signed)) u_mul (.a_i(a_i), .b_i(w_q), .p_o(product));
  end

  logic [AccWidth-1:0] next;
  logic ovf;
  acc_add #(.Width(AccWidth), .InWidth(WidthA + WidthB), .Signed(Signed), .Saturate(Saturate)) u_add (
    .acc_i(psum_i), .in_i(product), .sum_o(next), .overflow_o(ovf));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_o        <= '0;
      psum_o     <= '0;
      overflow_o <= 1'b0;
    end else if (en_i) begin
      a_o        <= a_i;
      psum_o     <= next;
      overflow_o <= ovf;
    end else begin
      overflow_o <= 1'b0;
    end
  end
endmodule
