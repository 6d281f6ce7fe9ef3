// A two-stage pipelined signed MAC in a designer's style: the product (with its enable and
// clear) is registered, then added into the accumulator by an adder split in two halves.
// Latency 2: a product shows in acc two clock edges after its operands. The tests inject a
// fault into it (the carry between the halves dropped).
module pipe_mac #(
  parameter int W   = 8,
  parameter int ACC = 32
) (
  input  logic           clk,
  input  logic           rst_n,  // asynchronous, active low
  input  logic           ce,     // accumulate this cycle's a * b
  input  logic           clr,    // clear the sum (wins over ce)
  input  logic [W-1:0]   a,
  input  logic [W-1:0]   b,
  output logic [ACC-1:0] acc
);
  localparam int H = ACC / 2;
  logic signed [2*W-1:0] prod_q;
  logic ce_q, clr_q;
  logic [ACC-1:0] p_ext;
  logic [H:0] lo;
  logic [ACC-H-1:0] hi;
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      prod_q <= '0;
      ce_q   <= 1'b0;
      clr_q  <= 1'b0;
    end else begin
      prod_q <= $signed(a) * $signed(b);
      ce_q   <= ce;
      clr_q  <= clr;
    end
  end
  assign p_ext = {{(ACC - 2 * W){prod_q[2*W-1]}}, prod_q};
  assign lo = {1'b0, acc[H-1:0]} + {1'b0, p_ext[H-1:0]};
  assign hi = acc[ACC-1:H] + p_ext[ACC-1:H] + {{(ACC - H - 1){1'b0}}, lo[H]};
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) acc <= '0;
    else if (clr_q) acc <= '0;
    else if (ce_q) acc <= {hi, lo[H-1:0]};
  end
endmodule
