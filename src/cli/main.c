#include <stdio.h>
int main(void)
{
	puts("bulkcall " BC_VERSION);
	return 0;
}
