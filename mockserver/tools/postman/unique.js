// A suffix no earlier send used: the time in milliseconds and a little randomness, base 36.
function uniqueSuffix() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
}
