/* Replay driver (stand-in until the lead's fuzz/replay.c lands; take theirs on merge): runs
 * LLVMFuzzerTestOneInput on every regular file in the folders given, so ctest replays the saved
 * corpus without libFuzzer. Not for fuzzing itself. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_dir(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st))
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 4)
                n += run_dir(p, depth + 1);
            continue;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > (1 << 20))
            continue;
        FILE *f = fopen(p, "rb");
        if (!f)
            continue;
        uint8_t *buf = malloc((size_t)st.st_size + 1);
        size_t len = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
        fclose(f);
        if (buf)
            LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++)
        n += run_dir(argv[i], 0);
    printf("replayed %d inputs\n", n);
    return 0;
}
