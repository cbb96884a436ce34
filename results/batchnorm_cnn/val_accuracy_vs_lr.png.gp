set terminal pngcairo size 960,600 font 'sans,11'
set output 'results/batchnorm_cnn/val_accuracy_vs_lr.png'
set title 'Validation accuracy after the last epoch vs the rate (diverged: 0.1)'
set xlabel 'learning rate'
set ylabel 'validation accuracy'
set grid
set key outside right
set logscale x
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
plot 'results/batchnorm_cnn/val_accuracy_vs_lr.png.dat' index 0 using 1:2 with linespoints title 'without batch norm', \
     'results/batchnorm_cnn/val_accuracy_vs_lr.png.dat' index 1 using 1:2 with linespoints title 'with batch norm'
