// SPDX-License-Identifier: MIT
/*
 * A small printf: %d %i %u %x %X %p %c %s %%, with the length modifiers
 * l, ll, z and h/hh (accepted, values are promoted anyway), '-' and '0'
 * flags and a field width (a number or '*'). No floating point.
 */
#include "guest.h"

struct sink {
	char *buf; /* NULL: straight to the serial port */
	size_t size;
	size_t len; /* characters produced, even those not stored */
};

struct spec {
	bool left;
	bool zero;
	int width;
	int longs; /* 0: int, 1: long, 2: long long */
};

static void sink_put(struct sink *s, char c)
{
	if (!s->buf)
		guest_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

/*
 * Divides @n by @base in place and returns the remainder. 64-bit division
 * would need libgcc's __udivdi3, which a -nostdlib guest does not have;
 * two 32-bit DIVs do it, the second cannot overflow (remainder < base).
 */
static unsigned int div_in_place(unsigned long long *n, unsigned int base)
{
	uint32_t hi = (uint32_t)(*n >> 32), lo = (uint32_t)*n;
	uint32_t qhi = hi / base, rem = hi % base, qlo;

	__asm__("divl %4"
		: "=a"(qlo), "=d"(rem)
		: "a"(lo), "d"(rem), "rm"(base));
	*n = ((unsigned long long)qhi << 32) | qlo;
	return rem;
}

static void pad(struct sink *s, int n, char c)
{
	while (n-- > 0)
		sink_put(s, c);
}

static void put_str(struct sink *s, const struct spec *sp, const char *str)
{
	int len = 0;

	if (!str)
		str = "(null)";
	while (str[len])
		len++;
	if (!sp->left)
		pad(s, sp->width - len, ' ');
	for (int i = 0; i < len; i++)
		sink_put(s, str[i]);
	if (sp->left)
		pad(s, sp->width - len, ' ');
}

static void put_num(struct sink *s, const struct spec *sp, unsigned long long n,
		    bool neg, unsigned int base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int len = 0, total;

	do {
		tmp[len++] = digits[div_in_place(&n, base)];
	} while (n);
	total = len + neg;
	if (sp->zero && !sp->left) {
		if (neg)
			sink_put(s, '-');
		pad(s, sp->width - total, '0');
	} else {
		if (!sp->left)
			pad(s, sp->width - total, ' ');
		if (neg)
			sink_put(s, '-');
	}
	while (len)
		sink_put(s, tmp[--len]);
	if (sp->left)
		pad(s, sp->width - total, ' ');
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ 0 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	for (;; f++) {
		if (*f == 'l')
			sp->longs++;
		else if (*f == 'z')
			sp->longs = 1; /* size_t is unsigned long here */
		else if (*f != 'h')
			break;
	}
	return f;
}

static unsigned long long arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->longs >= 2)
		return va_arg(*ap, unsigned long long);
	if (sp->longs == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static long long arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->longs >= 2)
		return va_arg(*ap, long long);
	if (sp->longs == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static void convert(struct sink *s, struct spec *sp, char c, va_list *ap)
{
	long long v;
	unsigned long long u;
	char ch[2] = { 0 };

	switch (c) {
	case 'd':
	case 'i':
		v = arg_signed(sp, ap);
		/* Negated as unsigned: -LLONG_MIN does not overflow there. */
		u = (unsigned long long)v;
		put_num(s, sp, v < 0 ? 0 - u : u, v < 0, 10, false);
		break;
	case 'u':
		put_num(s, sp, arg_unsigned(sp, ap), false, 10, false);
		break;
	case 'x':
	case 'X':
		put_num(s, sp, arg_unsigned(sp, ap), false, 16, c == 'X');
		break;
	case 'p':
		sink_put(s, '0');
		sink_put(s, 'x');
		sp->zero = true;
		sp->width = 8;
		put_num(s, sp, (uintptr_t)va_arg(*ap, void *), false, 16,
			false);
		break;
	case 'c':
		ch[0] = (char)va_arg(*ap, int);
		put_str(s, sp, ch);
		break;
	case 's':
		put_str(s, sp, va_arg(*ap, const char *));
		break;
	default: /* '%' and anything unknown are printed as they are */
		sink_put(s, '%');
		if (c != '%')
			sink_put(s, c);
	}
}

static size_t format(struct sink *s, const char *fmt, va_list ap)
{
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			sink_put(s, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &aq);
		if (!*fmt)
			break;
		convert(s, &sp, *fmt++, &aq);
	}
	va_end(aq);
	return s->len;
}

int guest_vprintf(const char *fmt, va_list ap)
{
	struct sink s = { 0 };

	return (int)format(&s, fmt, ap);
}

int guest_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = guest_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int guest_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	struct sink s = { .buf = buf, .size = size };
	va_list ap;

	va_start(ap, fmt);
	format(&s, fmt, ap);
	va_end(ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}
