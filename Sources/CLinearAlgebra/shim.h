// CBLAS from OpenBLAS and the LAPACKE C interface to LAPACK.
// LAPACK_COMPLEX_STRUCTURE keeps lapacke.h from including <complex.h>, which Swift cannot import.
#define LAPACK_COMPLEX_STRUCTURE
#include <cblas.h>
#include <lapacke.h>
