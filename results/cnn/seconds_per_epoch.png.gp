set terminal pngcairo size 960,600 font 'sans,11'
set output 'results/cnn/seconds_per_epoch.png'
set title 'Training time per epoch (one thread per run, two runs at a time)'
set xlabel 'epoch'
set ylabel 'seconds (mean over seeds)'
set grid
set key outside right
set logscale y
set format y '%g'
set linetype 1 lc rgb '#1f77b4' lw 2 pt 4
set linetype 2 lc rgb '#d62728' lw 2 pt 5
set linetype 3 lc rgb '#2ca02c' lw 2 pt 6
set linetype 4 lc rgb '#9467bd' lw 2 pt 7
set linetype 5 lc rgb '#ff7f0e' lw 2 pt 8
set linetype 6 lc rgb '#17becf' lw 2 pt 9
set linetype 7 lc rgb '#8c564b' lw 2 pt 10
set linetype 8 lc rgb '#e377c2' lw 2 pt 11
set linetype 9 lc rgb '#7f7f7f' lw 2 pt 12
set linetype 10 lc rgb '#bcbd22' lw 2 pt 13
set linetype cycle 10
plot 'results/cnn/seconds_per_epoch.png.dat' index 0 using 1:2 with linespoints title 'cnn', \
     'results/cnn/seconds_per_epoch.png.dat' index 1 using 1:2 with linespoints title 'mlp 256-128', \
     'results/cnn/seconds_per_epoch.png.dat' index 2 using 1:2 with linespoints title 'mlp 421-211', \
     'results/cnn/seconds_per_epoch.png.dat' index 3 using 1:2 with linespoints title 'mlp 530'
