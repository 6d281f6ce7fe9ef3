// PANN addition unit (papers.md §1): replaces a multiplication x·R by R additions of
// an unsigned WidthX-bit activation into a register, one per cycle, with a ripple
// adder. start_i loads x and R; done_o rises when the count reaches zero and holds.
module pann_add #(
  parameter int unsigned WidthX = 8,
  parameter int unsigned RWidth = 4
) (
  input  logic                     clk_i,     // clock
  input  logic                     rst_ni,    // asynchronous reset, active low
  input  logic                     start_i,   // load x_i and r_i, clear the sum
  input  logic [WidthX-1:0]        x_i,       // unsigned activation
  input  logic [RWidth-1:0]        r_i,       // repetition count R
  output logic [WidthX+RWidth-1:0] result_o,  // x·R once done_o is high
  output logic                     done_o     // the R additions are complete
);
  localparam int unsigned W = WidthX + RWidth;
  logic [WidthX-1:0] x_q;
  logic [RWidth-1:0] count_q;
  logic [W-1:0] sum;
  logic unused_cout;
  add_ripple #(.Width(W)) u_add (.a_i(result_o), .b_i(W'(x_q)), .cin_i(1'b0), .sum_o(sum), .cout_o(unused_cout));
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      x_q      <= '0;
      count_q  <= '0;
      result_o <= '0;
    end else if (start_i) begin
      x_q      <= x_i;
      count_q  <= r_i;
      result_o <= '0;
    end else if (count_q != '0) begin
      result_o <= sum;
      count_q  <= count_q - 1'b1;
    end
  end
  assign done_o = (count_q == '0);
endmodule
