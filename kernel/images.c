#include "images.h"

#include <string.h>

const struct embedded_image *image_find(const char *name) {
    for (const struct embedded_image *img = embedded_images; img->name; img++)
        if (strcmp(img->name, name) == 0)
            return img;
    return NULL;
}
