// Wallace tree over whole rows: every level compresses each group of three Width-bit
// rows into a sum row and a shifted carry row with full adders (3:2), passing the
// remaining one or two rows on, until two rows remain for the final carry-propagate
// adder. All levels live in one row array; constant functions lay out the schedule.
module csa_tree #(
  parameter int unsigned Rows  = 3,
  parameter int unsigned Width = 8
) (
  input  logic [Rows*Width-1:0] rows_i,   // Rows addends, row r at [r*Width +: Width]
  output logic [Width-1:0]      sum_o,    // two rows whose sum (mod 2^Width) equals
  output logic [Width-1:0]      carry_o   //   the sum of all input rows
);
  // Plain Verilog-2005 constant functions: the subset Yosys 0.23 and Verilator share.
  function automatic integer rows_at(input integer level);
    integer n, i;
    begin
      n = Rows;
      for (i = 0; i < level; i = i + 1) n = (n <= 2) ? n : 2 * (n / 3) + n % 3;
      rows_at = n;
    end
  endfunction
  function automatic integer level_count(input integer unused);
    integer l, i;
    begin
      l = 0;
      for (i = 0; i < 64; i = i + 1) if (rows_at(i) > 2) l = i + 1;
      level_count = l + 0 * unused;
    end
  endfunction
  function automatic integer offset(input integer level);
    integer o, i;
    begin
      o = 0;
      for (i = 0; i < level; i = i + 1) o = o + rows_at(i);
      offset = o;
    end
  endfunction

  localparam int unsigned Levels = level_count(0);
  localparam int unsigned Total  = offset(Levels) + rows_at(Levels);
  logic [Width-1:0] row [Total] /*verilator split_var*/;

  for (genvar r = 0; r < Rows; r++) begin : g_in
    assign row[r] = rows_i[r*Width +: Width];
  end
  for (genvar l = 0; l < Levels; l++) begin : g_level
    localparam int unsigned N = rows_at(l), Groups = N / 3, Rest = N % 3;
    localparam int unsigned In = offset(l), Out = offset(l + 1);
    for (genvar gi = 0; gi < Groups; gi++) begin : g_group
      logic [Width-1:0] c;
      for (genvar i = 0; i < Width; i++) begin : g_bit
        fa u_fa (.a_i(row[In + 3*gi][i]), .b_i(row[In + 3*gi + 1][i]), .c_i(row[In + 3*gi + 2][i]),
                 .s_o(row[Out + 2*gi][i]), .c_o(c[i]));
      end
      assign row[Out + 2*gi + 1] = {c[Width-2:0], 1'b0};  // carries weigh one column more
      logic unused_top_carry;
      assign unused_top_carry = c[Width-1];                 // beyond 2^Width: dropped (mod)
    end
    for (genvar r = 0; r < Rest; r++) begin : g_pass
      assign row[Out + 2*Groups + r] = row[In + 3*Groups + r];
    end
  end
  localparam int unsigned Last = offset(Levels);
  assign sum_o = row[Last];
  if (rows_at(Levels) > 1) begin : g_two
    assign carry_o = row[Last + 1];
  end else begin : g_one
    assign carry_o = '0;
  end
endmodule
