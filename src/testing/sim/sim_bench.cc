// Placeholder; the simulator benchmark follows.
int main() {
  return 0;
}
