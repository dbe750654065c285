/* ulmfit_pretrain: stage 1 of the ULMFiT example on its own (pretrain.c). */
#include "pretrain.h"

int main(int argc, char **argv) { return ul_pretrain_main(argc, argv); }
