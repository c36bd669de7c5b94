/**
 * Exit codes, shared by every subcommand (DECISIONS §2, reference §1.3): usage and validation
 * errors found before reading the image are 253; failures while reading or extracting 254;
 * failures after extraction (post-processing) 255.
 */
export const EXIT_OK = 0;
export const EXIT_USAGE = 253;
export const EXIT_READ = 254;
export const EXIT_POSTPROCESS = 255;
