# Plot of the side-by-side benchmark, run by bench_side_by_side:
#   gnuplot -e "throughput='X-throughput.dat'; latency='X-latency.dat'; output='X.png'; subtitle='...'" plot.gp
# Left: streaming throughput against frame size. Right: latency p50 (point) to p99 (bar top) of
# the four latency rows (64 B one-way awake and asleep, 3.1 MB relay round trips).
set terminal pngcairo size 1500,620 font "sans,10" noenhanced
set output output
set datafile missing "NaN"
set bmargin 5  # room for the two-line row labels of the latency panel
set multiplot layout 1,2 title "zerobuffer side by side: ".subtitle font ",11"

# --- throughput ----------------------------------------------------------------------------
set title "Streaming throughput (median of repetitions)"
set logscale xy
set xrange [40:5000000]
set xtics ("64 B" 64, "4 KiB" 4096, "1 MiB" 1048576, "3.1 MB" 3110400)
set xlabel "frame size"
set ylabel "GB/s"
set grid ytics mytics xtics
set key top left box opaque
plot throughput using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "zerobuffer C++, copy", \
     ''         using 1:3 with linespoints lw 2 pt 5 lc rgb "#17becf" title "zerobuffer C++, zero-copy", \
     ''         using 1:4 with linespoints lw 1 dt 2 pt 6 lc rgb "#1f77b4" title "zerobuffer foreign-peer, copy", \
     ''         using 1:5 with linespoints lw 1 dt 2 pt 4 lc rgb "#17becf" title "zerobuffer foreign-peer, zero-copy", \
     ''         using 1:6 with linespoints lw 2 pt 9 lc rgb "#d62728" title "Boost message_queue", \
     ''         using 1:7 with points pt 13 ps 1.8 lc rgb "#2ca02c" title "floor (SPSC ring / memcpy)"

# --- latency -------------------------------------------------------------------------------
unset logscale x
set logscale y
set xrange [-0.5:3.5]
set xtics ("64 B one-way\nawake" 0, "64 B one-way\nasleep, 1 kHz" 1, "3.1 MB relay\nround trip" 2, "3.1 MB relay\nfresh buffers" 3)
unset xlabel
set ylabel "microseconds (p50, bar to p99)"
set title "Latency"
set key top left box opaque
plot latency using ($0-0.24):2:2:3 with yerrorbars lw 2 pt 7 ps 1.3 lc rgb "#1f77b4" title "zerobuffer C++", \
     ''      using ($0-0.08):4:4:5 with yerrorbars lw 1 pt 6 ps 1.3 lc rgb "#17becf" title "zerobuffer foreign-peer", \
     ''      using ($0+0.08):6:6:7 with yerrorbars lw 2 pt 9 ps 1.3 lc rgb "#d62728" title "Boost message_queue", \
     ''      using ($0+0.24):8:8:9 with yerrorbars lw 2 pt 13 ps 1.3 lc rgb "#2ca02c" title "floor"
unset multiplot
