set terminal pngcairo size 960,600 font 'sans,11'
set output 'results/batchnorm_cnn/val_accuracy.png'
set title 'Validation accuracy per epoch, every rate (a diverged run''s curve stops)'
set xlabel 'epoch'
set ylabel 'validation accuracy'
set grid
set key outside right
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
plot 'results/batchnorm_cnn/val_accuracy.png.dat' index 0 using 1:2 with linespoints title 'plain lr=0.003', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 1 using 1:2 with linespoints title 'plain lr=0.01', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 2 using 1:2 with linespoints title 'plain lr=0.03', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 3 using 1:2 with linespoints title 'plain lr=0.1', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 4 using 1:2 with linespoints title 'plain lr=0.3', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 5 using 1:2 with linespoints title 'plain lr=1', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 6 using 1:2 with linespoints title 'plain lr=3', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 7 using 1:2 with linespoints title 'bn lr=0.003', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 8 using 1:2 with linespoints title 'bn lr=0.01', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 9 using 1:2 with linespoints title 'bn lr=0.03', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 10 using 1:2 with linespoints title 'bn lr=0.1', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 11 using 1:2 with linespoints title 'bn lr=0.3', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 12 using 1:2 with linespoints title 'bn lr=1', \
     'results/batchnorm_cnn/val_accuracy.png.dat' index 13 using 1:2 with linespoints title 'bn lr=3'
