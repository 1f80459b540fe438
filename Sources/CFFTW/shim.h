// FFTW3, double precision. <complex.h> is deliberately not included first, so that
// fftw_complex is the portable double[2] that Swift imports as a tuple.
#include <fftw3.h>
